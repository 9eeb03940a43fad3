// Injected into the start-up bundle by scripts/build-dist.js in place of `Intl.Segmenter`: the same
// constructor arguments and methods, with the ICU segmenter created at the first call instead of
// when the module that holds it loads.
export class LazySegmenter {
  #args;
  #real = null;

  constructor(...args) {
    this.#args = args;
  }

  #get() {
    this.#real ??= new globalThis.Intl.Segmenter(...this.#args);
    return this.#real;
  }

  segment(text) {
    return this.#get().segment(text);
  }

  resolvedOptions() {
    return this.#get().resolvedOptions();
  }

  static supportedLocalesOf(...args) {
    return globalThis.Intl.Segmenter.supportedLocalesOf(...args);
  }
}
