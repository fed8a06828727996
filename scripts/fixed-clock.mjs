/* global process */
// Preloaded (node --import) into every Node process of `npm run docs:screenshots`: the clock starts at
// TENURE_FIXED_NOW and runs on from there, so the demo's history, every date on the console and so the
// committed screenshots are the same from one run to the next. Time still passes (timers, expiries);
// only its origin is fixed. Never loaded by the server or the tests otherwise.
const fixed = Date.parse(process.env.TENURE_FIXED_NOW ?? '');
if (Number.isFinite(fixed)) {
  const RealDate = Date;
  const offset = fixed - RealDate.now();
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }

    static now() {
      return RealDate.now() + offset;
    }

    // Dates made by the engine itself (structuredClone, JSON revivers of libraries) are still dates.
    static [Symbol.hasInstance](value) {
      return value instanceof RealDate;
    }
  }
  globalThis.Date = ShiftedDate;
}
