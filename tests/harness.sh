# harness.sh -- sourced by the tests/cli_*.sh scripts: run the gemma4 binary ($BIN) with a 120 s limit and
# count passes/failures.  The caller sets BIN and T (its scratch directory) first; this file clears T.
# shellcheck disable=SC2015,SC2001,SC2034  # `cond && ok || bad` is safe: ok always succeeds
rm -rf "$T"; mkdir -p "$T"
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; [ -s "$T/err" ] && sed 's/^/    stderr: /' "$T/err" | head -n 8; }

# run ARGS...: BIN with a 120 s limit, stdout/stderr to $T/out, $T/err; sets rc
run() { timeout 120 "$BIN" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }

sanitizer_clean() { ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/err"; }

# expect_err NAME NEEDLE ARGS...: failure with one error line containing NEEDLE (case-insensitive)
expect_err() {
  local name=$1 needle=$2; shift 2
  run "$@"
  local n_err line
  n_err=$(grep -c '^error: ' "$T/err")
  line=$(grep -m1 '^error: ' "$T/err")
  if [ "$rc" -eq 0 ]; then bad "$name: exit 0 (want non-zero)"
  elif [ "$rc" -ge 124 ]; then bad "$name: exit $rc (timeout or signal)"
  elif ! sanitizer_clean; then bad "$name: sanitizer report"
  elif [ "$n_err" -ne 1 ]; then bad "$name: $n_err 'error:' lines on stderr (want 1)"
  elif ! grep -qiF -- "$needle" <<<"$line"; then bad "$name: error line lacks '$needle': $line"
  elif [ -s "$T/out" ]; then bad "$name: wrote to stdout: $(head -c 200 "$T/out")"
  else ok; fi
}

# expect_ok NAME ARGS...: exit 0, clean stderr
expect_ok() {
  local name=$1; shift
  run "$@"
  if [ "$rc" -ne 0 ]; then bad "$name: exit $rc (want 0)"
  elif ! sanitizer_clean; then bad "$name: sanitizer report"
  else ok; fi
}

