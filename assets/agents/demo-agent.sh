#!/bin/sh
# A small stand-in for a coding agent, used by `taskboard demo`: it reads its prompt from
# TASKBOARD_PROMPT, prints coloured progress for a few seconds, edits a file, commits, exits 0.
set -u
task="${TASKBOARD_TASK_ID:-0}"
prompt="${TASKBOARD_PROMPT:-no prompt given}"
steps="${DEMO_AGENT_STEPS:-4}"
green='\033[32m'; cyan='\033[36m'; dim='\033[2m'; bold='\033[1m'; reset='\033[0m'

printf "${bold}demo-agent${reset} ${dim}task #%s${reset}\n" "$task"
printf "${cyan}prompt:${reset} %s\n" "$prompt"
i=1
for what in "reading the repository" "thinking about the change" "editing files" "running the tests"; do
  [ "$i" -gt "$steps" ] && break
  printf "${dim}[%s/%s]${reset} %s" "$i" "$steps" "$what"
  for _ in 1 2 3; do sleep 0.2; printf "."; done
  printf " ${green}ok${reset}\n"
  i=$((i + 1))
done

mkdir -p notes
file="notes/task-$task.md"
printf "# Task %s\n\n%s\n" "$task" "$prompt" > "$file"
# Parallel agents share one repository in the demo: retry while another holds the index lock.
n=0
until git add "$file" 2>/dev/null && git -c user.name="demo agent" -c user.email="demo@taskboard.invalid" commit -q -m "task $task: $(printf '%s' "$prompt" | head -c 60)" -- "$file" 2>/dev/null; do
  n=$((n + 1))
  if [ "$n" -ge 50 ]; then echo "could not commit $file"; exit 1; fi
  sleep 0.1
done
printf "${green}✔ committed %s${reset}\n" "$file"
exit 0
