// What some browsers have and TypeScript's DOM library does not know, for the JSDoc type check
// (jsconfig.json): each is used only where the browser has it.

interface Navigator {
  /** Safari 16.4+: how the page's sound mixes with other audio (web/js/phone.js setAudioSession). */
  audioSession?: { type: "auto" | "playback" | "transient" | "transient-solo" | "ambient" | "play-and-record" };
  /** iOS Safari: true when the app was opened from the home screen. */
  standalone?: boolean;
}

interface Window {
  /** Safari before 14.1: the Web Audio API under its old name. */
  webkitAudioContext?: typeof AudioContext;
  /** Safari before 14.1: decoding without a tap, under its old name. */
  webkitOfflineAudioContext?: typeof OfflineAudioContext;
}
