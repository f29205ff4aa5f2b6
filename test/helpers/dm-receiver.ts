/**
 * A child process for the kill -9 test: opens a storage folder, joins a private DHT
 * (argv: DIR HOST:PORT) and prints one line per DM it stores, so the parent can SIGKILL it mid-receive.
 */
import { Shoal } from '../../src/node/shoal.js'
import { parseBootstrap } from '../../src/node/network.js'

const [dir, bootstrap] = process.argv.slice(2)
const shoal = new Shoal(dir)
await shoal.ready()
let n = 0
shoal.on('dm', () => { process.stdout.write(`dm ${++n}\n`) })
await shoal.joinNetwork({ bootstrap: parseBootstrap(bootstrap) })
process.stdout.write('joined\n')
