// package.json "imports": Node's built-in on Node, the bare-* module on Bare. Typed as Node's
// module, but Shoal uses only what both provide (bare-fs's FileHandle has no writeFile, bare-process
// no umask: callers check).

declare module '#fs' {
  import fs from 'fs/promises'
  export default fs
}

declare module '#path' {
  import path from 'path'
  export default path
}

declare module '#process' {
  import process from 'process'
  export default process
}

declare module '#dgram' {
  import dgram from 'dgram'
  export default dgram
}

declare module '#events' {
  import events from 'events'
  export default events
}
