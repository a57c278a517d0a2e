// Cuts the voice into chunks of signed 16-bit mono PCM (20 ms at the context's rate)
// and hands them to the page, which sends them on the live session's WebSocket.
class PcmChunker extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.size = (options.processorOptions && options.processorOptions.chunk) || 960;
    this.buf = new Int16Array(this.size);
    this.n = 0;
  }
  process(inputs) {
    const input = inputs[0];
    if (input && input.length) {
      const ch = input[0];
      for (let i = 0; i < ch.length; i++) {
        let s = 0;
        for (let c = 0; c < input.length; c++) s += input[c][i];
        s = Math.max(-1, Math.min(1, s / input.length));
        this.buf[this.n++] = s < 0 ? s * 32768 : s * 32767;
        if (this.n === this.size) {
          this.port.postMessage(this.buf.buffer, [this.buf.buffer]);
          this.buf = new Int16Array(this.size);
          this.n = 0;
        }
      }
    }
    return true;
  }
}
registerProcessor("pcm-chunker", PcmChunker);
