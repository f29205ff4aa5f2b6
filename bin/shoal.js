#!/usr/bin/env -S node --max-semi-space-size=2 --heap-growing-percent=50
import { run } from '../dist/src/cli/main.js'

process.umask(0o077) // every file Shoal creates is owner-only, whatever the caller's umask

process.exitCode = await run(process.argv.slice(2))
