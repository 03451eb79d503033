#!/bin/sh
# Runs examples/Invoke-NightlyCaption.ps1 for a scheduler (cron, a systemd timer) as ONE process, so that the
# signals the scheduler sends (SIGTERM when the task is ended, SIGINT) reach the captioning run itself.
# 'dotnet pwsh' is three processes (the dotnet muxer, PowerShell's tool shim, pwsh.dll), and a signal to the
# first leaves the run going; so the local tool's pwsh.dll is found once and exec'd by dotnet directly.
# Arguments are passed on: ./examples/Start-NightlyCaption.sh -ConfigPath ~/datasets/cats/caption.yaml
cd "$(dirname "$0")/.." || exit 2
home=$(dotnet pwsh -NoProfile -NonInteractive -Command '$PSHOME') || exit 2
exec dotnet "$home/pwsh.dll" -NoProfile -NonInteractive -File ./examples/Invoke-NightlyCaption.ps1 "$@"
