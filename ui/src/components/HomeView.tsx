import { useState } from 'react'
import { Composer } from './Composer.tsx'
import { Timeline } from './Timeline.tsx'

/** The composer over the home timeline. */
export function HomeView () {
  const [posted, setPosted] = useState(0)
  return (
    <section className='view' aria-labelledby='home-title'>
      <h1 id='home-title' className='sr-only'>Home</h1>
      <Composer onPosted={() => { setPosted((n) => n + 1) }} />
      <Timeline author={null} refreshSignal={posted}
        empty='Nothing here yet. Write the first post, or follow someone from People.' />
    </section>
  )
}
