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
    private var latin = LatinWordBreaker()

    init() {
        guard let handle = kidx_word_breaker_open() else {
            fatalError("ICU could not open a word-break iterator; is libicu installed?")
        }
        self.handle = handle
    }

    deinit { kidx_word_breaker_close(handle) }

    /// Calls `body` with the byte range of every word segment of `text` (letters or digits, as
    /// ICU's rule status says), in order. `text` must stay valid for the duration of the call
    /// (the caller owns it).
    ///
    /// Text in the Latin letters of German news and its punctuation is split without ICU, by
    /// the same rules (`LatinWordBreaker`): ICU's iterator took 5 to 9 % of a FANG build's
    /// processor time (perf), and the build 8 % less without it.
    func forEachWord(in text: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        if latin.forEachWord(in: text, body) { return }
        forEachSegment(in: text) { range, kind in
            if kind != .other { body(range) }
        }
    }

    /// Calls `body` with the byte range and kind of every segment of `text`, in order, as ICU
    /// splits it. `text` must stay valid for the duration of the call (the caller owns it).
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

/// The word segments of text written in Latin letters (ASCII, Latin-1 and Latin Extended-A)
/// with common punctuation, by the rules of Unicode's word boundaries (UAX #29) that such text
/// meets: letters and digits hold together (WB5, WB8-WB10); a letter, a full stop, apostrophe
/// or middle dot, and a letter stay one word (`z.B`, `geht's`, WB6-WB7); a digit, a full stop,
/// comma, semicolon or apostrophe, and a digit stay one number (`3.000`, `2,5`, WB11-WB12).
/// Any other character (soft hyphens, underscores, other scripts, combining marks, emoji),
/// whose rules are ICU's to apply, makes `forEachWord` decline the whole text.
///
/// Keeps its scratch buffers between texts: use one per thread.
struct LatinWordBreaker {
    private enum Class: UInt8 {
        case letter, digit
        /// Joins letters only (`·`; not `:`, which ICU's rules took out).
        case midLetter
        /// Joins letters and digits (`.`, `'`, `‘`, `’`).
        case midNumberLetter
        /// Joins digits only (`,`, `;`).
        case midNumber
        case other
    }

    /// Each character's class and where it starts, for the text being split (the arrays only
    /// grow: a text's characters and one past its end are written over what is there).
    private var classes: [Class] = []
    private var starts: [Int] = []

    /// Calls `body` with every word segment of `text` and returns true, or returns false,
    /// calling nothing, when `text` holds a character these rules do not cover.
    mutating func forEachWord(in text: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) -> Bool {
        // Every character classified first: nothing is reported for a text that turns out to
        // need ICU. Written by index into buffers kept from text to text, the ASCII table read
        // through a pointer: appended to, the arrays checked their uniqueness and capacity for
        // every character, and each read of the table (a static) checked that it is made
        // (`GermanAnalyzer.forEachWord` on a 1,000-article build: 1,878 M instructions before,
        // 1,522 M after).
        if classes.count <= text.count {
            classes.append(contentsOf: repeatElement(.other, count: text.count + 1 - classes.count))
            starts.append(contentsOf: repeatElement(0, count: text.count + 1 - starts.count))
        }
        let classified = classes.withUnsafeMutableBufferPointer { classes in
            starts.withUnsafeMutableBufferPointer { starts in
                Self.asciiClasses.withUnsafeBufferPointer { ascii -> Int? in
                    var offset = 0, count = 0
                    while offset < text.count {
                        let lead = text[offset]
                        starts[count] = offset
                        if lead < 0x80 {
                            guard let type = ascii[Int(lead)] else { return nil }
                            classes[count] = type
                            offset += 1
                        } else {
                            guard let (scalar, length) = Self.decode(text, at: offset), let type = Self.classOf(scalar) else { return nil }
                            classes[count] = type
                            offset += length
                        }
                        count += 1
                    }
                    starts[count] = text.count
                    classes[count] = .other
                    return count
                }
            }
        }
        guard let count = classified else { return false }
        classes.withUnsafeBufferPointer { classes in
            starts.withUnsafeBufferPointer { starts in
                var index = 0
                while index < count {
                    let first = classes[index]
                    guard first == .letter || first == .digit else {
                        index += 1
                        continue
                    }
                    var previous = first
                    var end = index + 1
                    while end < count {
                        let next = classes[end]
                        if next == .letter || next == .digit {
                            previous = next
                            end += 1
                            continue
                        }
                        // A joiner between two letters or two digits keeps the word together.
                        let after = classes[end + 1]
                        let joinsLetters = previous == .letter && after == .letter && (next == .midLetter || next == .midNumberLetter)
                        let joinsDigits = previous == .digit && after == .digit && (next == .midNumber || next == .midNumberLetter)
                        guard joinsLetters || joinsDigits else { break }
                        previous = after
                        end += 2
                    }
                    body(starts[index]..<starts[end])
                    index = end
                }
            }
        }
        return true
    }

    /// The classes of the ASCII characters. `_` (which joins words in UAX #29) and `@` (ICU
    /// keeps e-mail addresses whole) are ICU's.
    private static let asciiClasses: [Class?] = (0..<128).map { byte -> Class? in
        switch UInt8(byte) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): .letter
        case UInt8(ascii: "0")...UInt8(ascii: "9"): .digit
        case UInt8(ascii: "."), UInt8(ascii: "'"): .midNumberLetter
        case UInt8(ascii: ","), UInt8(ascii: ";"): .midNumber
        case UInt8(ascii: "_"), UInt8(ascii: "@"): nil
        default: .other
        }
    }

    /// The class of a character above ASCII, nil when ICU must split the text.
    private static func classOf(_ scalar: UInt32) -> Class? {
        switch scalar {
        case 0xAA, 0xB5, 0xBA, 0xC0...0xD6, 0xD8...0xF6, 0xF8...0x17F: .letter
        case 0xB7: .midLetter
        case 0x2018, 0x2019: .midNumberLetter
        // Spaces, signs and quotation marks: no part of a word.
        case 0xA0...0xAC, 0xAE...0xBF, 0xD7, 0xF7, 0x2009, 0x2013, 0x2014, 0x201A, 0x201C...0x201E, 0x2022, 0x2026,
             0x2039, 0x203A, 0x20AC: .other
        default: nil
        }
    }

    /// The scalar of the two- or three-byte UTF-8 sequence at `offset` and its length (nil
    /// for anything else: longer sequences are not Latin, and the text is valid UTF-8).
    private static func decode(_ text: UnsafeBufferPointer<UInt8>, at offset: Int) -> (UInt32, Int)? {
        let lead = UInt32(text[offset])
        if lead & 0xE0 == 0xC0, offset + 1 < text.count {
            return ((lead & 0x1F) << 6 | UInt32(text[offset + 1] & 0x3F), 2)
        }
        if lead & 0xF0 == 0xE0, offset + 2 < text.count {
            return ((lead & 0x0F) << 12 | UInt32(text[offset + 1] & 0x3F) << 6 | UInt32(text[offset + 2] & 0x3F), 3)
        }
        return nil
    }
}

/// Unicode normalization through ICU.
enum UnicodeNormalizer {
    /// NFKC with case folding: compatibility forms unified, case removed, `ß` becomes `ss`.
    static func caseFolded(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) -> Bool {
        apply(kidx_nfkc_casefold, bytes, into: &output)
    }

    /// Canonical composition (NFC), so that `u` + combining diaeresis equals `ü`. Text that NFC
    /// leaves as it is (`isComposed`) is not handed to ICU: 55,714 of FANG's 56,082 titles and
    /// bodies, whose trip through ICU (to UTF-16 and back) took 3.3 % of a build's instructions
    /// (3,000 FANG articles on one thread, callgrind: 34.58 G with it, 33.44 G without).
    static func composed(_ text: String) -> String {
        var input = text
        if input.withUTF8(isComposed) { return text }
        var output: [UInt8] = []
        let ok = input.withUTF8 { apply(kidx_nfc, $0, into: &output) }
        return ok ? String(decoding: output, as: UTF8.self) : text
    }

    /// Whether valid UTF-8 `text` has only characters that NFC keeps, that compose with none
    /// before them and that are never reordered: below U+0300 (ASCII, Latin-1, Latin Extended,
    /// IPA), general punctuation from U+2002 to U+206F (U+2000 and U+2001 become U+2002 and
    /// U+2003), currency signs U+20A0 to U+20CF. False does not mean that NFC changes the text.
    static func isComposed(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index < text.count {
            // Bytes below 0xCC: ASCII, continuation bytes, and the lead bytes of U+0080...U+02FF.
            guard text[index] >= 0xCC else {
                index += 1
                continue
            }
            guard text[index] == 0xE2, index + 2 < text.count else { return false }
            let second = text[index + 1], third = text[index + 2]
            switch second {
            case 0x80 where third >= 0x82, 0x81 where third <= 0xAF, 0x82 where third >= 0xA0, 0x83 where third <= 0x8F: index += 3
            default: return false
            }
        }
        return true
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
