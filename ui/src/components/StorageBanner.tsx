import { useAppState } from '../app-state.ts'

/**
 * What the node noticed about its own storage (Shoal.health): a feed that lost blocks in a crash
 * (writing paused until peers bring them back), views rebuilt after damage, a replaced device feed.
 */
export function StorageBanner () {
  const { storage } = useAppState()
  if (storage === undefined) return null
  return (
    <>
      {storage.rolledBack !== null && (
        <div className='banner error' role='alert' data-testid='storage-rolled-back'>
          Your feed lost its newest {storage.rolledBack.expected - storage.rolledBack.length} message(s) in a crash.
          Writing is paused so your feed does not fork: keep Shoal running (or run <code>shoal sync</code>) until a
          peer that follows you brings them back.
        </div>
      )}
      {storage.viewsRebuilt !== null && (
        <div className='banner warn' role='status' data-testid='storage-views-rebuilt'>
          Your node's views were damaged and have been rebuilt from your feeds. Nothing was lost.
        </div>
      )}
      {storage.replacedFeed !== null && (
        <div className='banner warn' role='status' data-testid='storage-replaced-feed'>
          This device's feed was missing, so a new one was started. Your earlier posts come back as peers that hold them connect.
        </div>
      )}
    </>
  )
}
