import type { ApiCallError } from './api-client.ts'

/**
 * The one mapping from an error code to what a person reads: what happened and what to do, in
 * words. Codes not listed fall back to the node's own message.
 */
const SENTENCES: Record<string, string> = {
  DISCONNECTED: 'The app lost its connection to your Shoal node. It reconnects by itself; try again in a moment.',
  TIMEOUT: 'Your Shoal node did not answer in time. Check that it is still running, then try again.',
  UNAUTHORIZED: 'This window is no longer allowed to talk to your node. Open the address your node printed when it started.',
  FORBIDDEN: 'This page is not allowed to talk to your node. Open the address your node printed.',
  NO_IDENTITY: 'There is no identity on this node yet. Create one first.',
  IDENTITY_EXISTS: 'This node already has an identity. Reload the page to use it.',
  INVALID_PHRASE: 'That recovery phrase is not right. Check that all 24 words are there, spelled as written, in order.',
  INVALID_ID: 'That is not an identity id. An id is 52 letters and digits; copy it whole from the person\'s People page.',
  OWN_ID: 'That is your own id. Paste the id of the person you want to follow.',
  INVALID_ARGUMENT: 'That cannot be done with what was given.',
  MESSAGE_TOO_LARGE: 'That is too long to post. Shorten it until the counter is under the limit.',
  UNKNOWN_MESSAGE: 'That post is not here any more: it was deleted, or its author is blocked. The list refreshes by itself.',
  NOT_OWN_MESSAGE: 'Only the author can change or delete that post.',
  BLOCKED: 'You block this person. Unblock them first (on their profile, or in People → Blocked) to follow them or send them a message.',
  FEED_ROLLED_BACK: 'Your node lost some of your recent posts and is getting them back from peers. Writing is paused until then.',
  STORAGE_ERROR: 'Your node could not read or write its storage. Check the disk, then restart the node.',
  NO_SPACE: 'The disk is full. Free some space, then try again.',
  LAST_ADMIN: 'You are the last admin of this room. Make another member admin first, then leave.',
  NOT_MEMBER: 'You are not a member of this room any more.',
  UNKNOWN_ROOM: 'You are not in that room (any more). The list refreshes by itself.',
  ROOM_VERSION_UNSUPPORTED: 'This room is still on an older version that has no leave. It is upgraded when one of its admins opens it; try again after that.',
  TOO_MANY_REQUESTS: 'Too much at once. Wait a moment, then try again.',
  BAD_REQUEST: 'The app sent something the node did not understand. Reload the page and try again.',
  INTERNAL: 'Something went wrong inside your node. Try again; if it keeps happening, restart the node.',
  CLIENT_ERROR: 'Something went wrong in this page. Reload it and try again.'
}

/** Codes whose detail helps the person fix it (which word is wrong), shown after the sentence. */
const WITH_DETAIL = new Set(['INVALID_PHRASE', 'INVALID_ARGUMENT'])

/** A sentence saying what went wrong and what to do. */
export function errorText (err: ApiCallError): string {
  const sentence = SENTENCES[err.code]
  if (sentence === undefined) return `${err.detail.charAt(0).toUpperCase()}${err.detail.slice(1)}.`
  return WITH_DETAIL.has(err.code) && err.detail !== '' ? `${sentence} (${err.detail})` : sentence
}
