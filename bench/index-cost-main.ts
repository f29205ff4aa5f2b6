/** `node dist/bench/index-cost-main.js [records] [rounds]`: the indexing-cost phase alone. */
import { printMachine, readLoad, readMachine } from './machine.js'
import { INDEX_COST_TARGET, indexCost, indexCostRows } from './index-cost.js'
import { formatTable } from './report.js'
import { TmpDirs, runBench } from './tmp-dirs.js'

const tmp = new TmpDirs()

async function main (): Promise<void> {
  const records = Number(process.argv[2] ?? 20_000)
  const rounds = Number(process.argv[3] ?? 3)
  const machine = readMachine()
  printMachine(machine)
  try {
    const cost = await indexCost((label) => tmp.make(label), { records, rounds, log: (m) => process.stderr.write(`[index-cost] ${m}\n`) })
    console.log(formatTable(indexCostRows(cost)))
    console.log()
    console.log(JSON.stringify({ date: machine.date, command: `node dist/bench/index-cost-main.js ${records} ${rounds}`, loadAtStart: machine.load, loadAtEnd: readLoad(), revision: machine.revision, target: INDEX_COST_TARGET, ...cost }))
  } finally {
    await tmp.removeAll()
  }
}

runBench('index-cost', tmp, main)
