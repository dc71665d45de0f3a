// What a phone can do for a walker beyond sound: keep the screen on, buzz, show the workout
// on the lock screen. Each feature is used only where the browser has it.

/** Buzz pattern for a switch of direction (ms on, off, on). */
export const SWITCH_VIBRATION = [250, 120, 250];
/** Buzz pattern at the end of the workout. */
export const COMPLETE_VIBRATION = [600];

/**
 * True when running as an installed app (home screen), not in a browser tab.
 * @returns {boolean}
 */
export function isInstalled() {
  return matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
}

/**
 * Buzz the phone, where it can (Android; iPhones have no Vibration API).
 * @param {number[]} pattern
 */
export function vibrate(pattern) {
  // Without a tap on the page since it loaded (a rejoined workout), the browser refuses anyway.
  const tapped = !navigator.userActivation || navigator.userActivation.hasBeenActive;
  if (typeof navigator.vibrate === "function" && tapped) {
    try { navigator.vibrate(pattern); } catch { /* refused without a recent tap */ }
  }
}

/**
 * Keeps the screen on while a workout runs. The browser releases the lock when the page is
 * hidden, so it is taken again when the page is shown.
 */
export class ScreenKeeper {
  constructor() {
    this.wanted = false;
    /** @type {any} */
    this.lock = null;
    this.onVisibility = () => {
      if (document.visibilityState === "visible" && this.wanted) this.acquire();
    };
    document.addEventListener("visibilitychange", this.onVisibility);
  }

  /** True where the Screen Wake Lock API exists (it also needs https or localhost). */
  get supported() {
    return "wakeLock" in navigator;
  }

  /** Keep the screen on from now until `release()`. */
  async keepOn() {
    this.wanted = true;
    await this.acquire();
  }

  async acquire() {
    if (!this.supported || (this.lock && !this.lock.released)) return;
    try {
      this.lock = await navigator.wakeLock.request("screen");
    } catch (error) {
      // Refused (battery saver, hidden page): the next visibilitychange tries again.
      console.info("Screen wake lock not granted:", error.message);
    }
  }

  /** Let the screen sleep again. */
  async release() {
    this.wanted = false;
    const lock = this.lock;
    this.lock = null;
    if (lock && !lock.released) await lock.release().catch(() => {});
  }
}

/**
 * Tell Safari (16.4+) how the walk's sound mixes with the walker's music: "playback" keeps
 * the walk's track going with the screen locked (other music pauses), "transient" plays
 * each cue over the music and ducks it. Elsewhere nothing happens.
 * @param {"playback"|"transient"} type
 */
export function setAudioSession(type) {
  if (!navigator.audioSession) return;
  try { navigator.audioSession.type = type; } catch { /* not settable here */ }
}

/**
 * Show the workout on the lock screen and in notifications, and take the headset buttons.
 * @param {{title: string, plan: string}} info
 * @param {{play?: () => void, pause?: () => void, next?: () => void, stop?: () => void,
 *   seekto?: ((details: {seekTime?: number}) => void)|null}} [actions]
 */
export function showMediaSession(info, actions = {}) {
  if (!("mediaSession" in navigator) || typeof window.MediaMetadata !== "function") return;
  navigator.mediaSession.metadata = new MediaMetadata({
    title: info.title,
    artist: info.plan,
    album: "RetroWalk",
    artwork: [
      { src: "/icons/icon-192.png", sizes: "192x192", type: "image/png" },
      { src: "/icons/icon-512.png", sizes: "512x512", type: "image/png" },
    ],
  });
  const handlers = { play: actions.play, pause: actions.pause, nexttrack: actions.next, stop: actions.stop, seekto: actions.seekto };
  for (const [action, handler] of Object.entries(handlers)) {
    try { navigator.mediaSession.setActionHandler(/** @type {MediaSessionAction} */ (action), handler || null); } catch { /* unsupported action */ }
  }
}

/**
 * Tell the system whether the workout is playing or paused.
 * @param {"playing"|"paused"|"none"} state
 */
export function setMediaState(state) {
  if ("mediaSession" in navigator) navigator.mediaSession.playbackState = state;
}

/**
 * Where the walk's track is, for the lock screen's progress bar (pocket mode).
 * @param {number} durationMs the track's length
 * @param {number} positionMs where it plays now
 */
export function setMediaPosition(durationMs, positionMs) {
  if (!("mediaSession" in navigator) || typeof navigator.mediaSession.setPositionState !== "function") return;
  if (!Number.isFinite(durationMs) || durationMs <= 0) return;
  try {
    navigator.mediaSession.setPositionState({
      duration: durationMs / 1000, playbackRate: 1, position: Math.min(Math.max(positionMs, 0), durationMs) / 1000,
    });
  } catch { /* a position the browser will not take: the bar is left as it was */ }
}
