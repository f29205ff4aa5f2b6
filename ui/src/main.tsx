import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { getClient } from './api-client.ts'
import { App } from './components/App.tsx'
import './styles.css'

// Read the token from the fragment before anything can change the URL.
getClient()

const root = document.getElementById('root')
if (root === null) throw new Error('index.html has no #root')
createRoot(root).render(<StrictMode><App /></StrictMode>)
