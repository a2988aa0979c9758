# Shell helpers for the guides in Documentation/Flows: `source Scripts/guide-bench.sh` in bash, from the
# repository, after `swift build`; then paste a guide's commands. Scripts/run-guides runs them the same way.
#
# It starts the PC/SC test bench if it is not running (Scripts/setup-test-bench), puts the built tools on PATH,
# makes a scratch directory ($work, removed when the shell exits) and defines:
#   serve SLOT NAME card-simulator-arguments…   serve a simulated card in "Virtual PCD 00 0SLOT" (in the
#                                               background) and wait until it answers through pcscd
#   pull SLOT                                   take the card served in SLOT out and wait until the reader is empty
#   wait_for TEXT FILE                          wait until FILE shows TEXT (a tool's screen, in a log)
# The simulated cards' PINs are test values; a real card's PIN never goes on a command line.
guide_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${PCSCLITE_CSOCK_NAME:-}" ]; then
  "$guide_root/Scripts/setup-test-bench" >/dev/null
fi
PATH="$(cd "$guide_root" && swift build --show-bin-path):$PATH"
export PATH
for guide_tool in portal card-simulator cardtool jpki; do
  command -v "$guide_tool" >/dev/null || { echo "guide-bench: $guide_tool is not built; run swift build" >&2; return 1; }
done
work=$(mktemp -d)
declare -A guide_cards=()
guide_cleanup() {
  local pid
  for pid in "${guide_cards[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap guide_cleanup EXIT

guide_reader() { printf 'Virtual PCD 00 %02d' "$1"; }

serve() {
  local slot=$1 name=$2
  shift 2
  local reader
  reader=$(guide_reader "$slot")
  [ -z "${guide_cards[$slot]:-}" ] || pull "$slot"
  card-simulator "$@" --slot "$slot" >"$work/$name.log" 2>&1 &
  guide_cards[$slot]=$!
  local _status
  for _ in $(seq 150); do
    kill -0 "${guide_cards[$slot]}" 2>/dev/null || { cat "$work/$name.log" >&2; return 1; }
    if cardtool readers 2>/dev/null | grep -q "${reader}.*card present"; then
      # vpcd may report a card before its link is ready: wait for an answer (any status word; 2 is no answer).
      _status=0
      cardtool send --reader "$reader" 00A4040C07D392F000260101 >/dev/null 2>&1 || _status=$?
      [ "$_status" != 2 ] && return 0
    fi
    sleep 0.2
  done
  echo "guide-bench: the card in $reader does not answer through pcscd" >&2
  return 1
}

pull() {
  local slot=$1 reader
  reader=$(guide_reader "$slot")
  [ -n "${guide_cards[$slot]:-}" ] || return 0
  kill "${guide_cards[$slot]}" 2>/dev/null || true
  wait "${guide_cards[$slot]}" 2>/dev/null || true
  unset "guide_cards[$slot]"
  for _ in $(seq 100); do
    cardtool readers 2>/dev/null | grep -q "${reader}.*no card" && return 0
    sleep 0.1
  done
}

wait_for() {
  local text=$1 file=$2
  for _ in $(seq 600); do
    grep -q "$text" "$file" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "guide-bench: \"$text\" never appeared in $file" >&2
  return 1
}
