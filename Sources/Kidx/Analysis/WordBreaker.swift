import CICU

/// Splits UTF-8 text into word segments with ICU's German word-break rules.
///
/// Wraps an ICU break iterator, which is stateful: use one `WordBreaker` per thread.
final class WordBreaker {
    /// What ICU says a segment is, from its rule status.
    enum SegmentKind {
        case other, number, letters
    }

    private let handle: OpaquePointer

    init() {
        guard let handle = kidx_word_breaker_open() else {
            fatalError("ICU could not open a word-break iterator; is libicu installed?")
        }
        self.handle = handle
    }

    deinit { kidx_word_breaker_close(handle) }

    /// Calls `body` with the byte range and kind of every segment of `text`, in order.
    /// `text` must stay valid for the duration of the call (the caller owns it).
    func forEachSegment(in text: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>, SegmentKind) -> Void) {
        guard let base = text.baseAddress, !text.isEmpty else { return }
        let status = base.withMemoryRebound(to: CChar.self, capacity: text.count) {
            kidx_word_breaker_set_text(handle, $0, Int32(text.count))
        }
        guard status == 0 else { return }
        var start: Int32 = 0, end: Int32 = 0, rule: Int32 = 0
        while kidx_word_breaker_next(handle, &start, &end, &rule) == 1 {
            let kind: SegmentKind
            switch rule {
            case 100..<200: kind = .number
            case 200...: kind = .letters
            default: kind = .other
            }
            body(Int(start)..<Int(end), kind)
        }
    }
}

/// Unicode normalization through ICU.
enum UnicodeNormalizer {
    /// NFKC with case folding: compatibility forms unified, case removed, `ß` becomes `ss`.
    static func caseFolded(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) -> Bool {
        apply(kidx_nfkc_casefold, bytes, into: &output)
    }

    /// Canonical composition (NFC), so that `u` + combining diaeresis equals `ü`.
    static func composed(_ text: String) -> String {
        var input = text
        var output: [UInt8] = []
        let ok = input.withUTF8 { apply(kidx_nfc, $0, into: &output) }
        return ok ? String(decoding: output, as: UTF8.self) : text
    }

    private static func apply(
        _ function: (UnsafePointer<CChar>?, Int32, UnsafeMutablePointer<CChar>?, Int32) -> Int32,
        _ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]
    ) -> Bool {
        var capacity = max(16, bytes.count * 3)
        while true {
            // Written into uninitialized memory: filling the buffer with zeros first, a repeated
            // zero appended byte by byte, took 2 % of a build's reading and analysis (perf).
            var written: Int32 = 0
            output = bytes.withMemoryRebound(to: CChar.self) { source in
                [UInt8](unsafeUninitializedCapacity: capacity) { target, initialized in
                    written = target.withMemoryRebound(to: CChar.self) {
                        function(source.baseAddress, Int32(source.count), $0.baseAddress, Int32(capacity))
                    }
                    initialized = written >= 0 && Int(written) <= capacity ? Int(written) : 0
                }
            }
            if written < 0 { return false }
            if Int(written) <= capacity { return true }
            capacity = Int(written)
        }
    }
}
