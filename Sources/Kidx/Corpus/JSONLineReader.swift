/// Reads one line of a JSON Lines corpus: a JSON object (RFC 8259, strictly), of which only
/// the members a document needs are made into strings; every other member is checked and
/// skipped.
///
/// Foundation's `JSONSerialization` built an object for every member and bridged its strings,
/// for a line we read six strings of: 1.17 G of the 31.2 G instructions of a 3,000-article
/// build, about 70 a byte of JSON.
struct JSONLineReader {
    /// Why a line is not read.
    enum Failure: Error, Equatable {
        /// Not one JSON object.
        case malformed
        /// A kept string is not valid UTF-8.
        case invalidUTF8
    }

    /// Containers nested deeper than this are refused (skipping them recurses).
    static let maximumDepth = 256

    private let line: UnsafeBufferPointer<UInt8>
    private var offset = 0
    /// The bytes of the last string read that had escapes, unescaped.
    private var unescaped: [UInt8] = []

    private init(_ line: UnsafeBufferPointer<UInt8>) { self.line = line }

    /// The values of the object's members named `names` (UTF-8), in that order: a string's
    /// text, a number as written, nil for a member that is absent or of another kind. Of a
    /// name given twice, the last value counts.
    static func values(in line: UnsafeBufferPointer<UInt8>, names: [[UInt8]]) -> Result<[String?], Failure> {
        var reader = JSONLineReader(line)
        do {
            return .success(try reader.object(names: names))
        } catch let failure as Failure {
            return .failure(failure)
        } catch {
            return .failure(.malformed)
        }
    }

    /// How a string read stands: its bytes in the line when it has no escapes, else `unescaped`.
    private enum StringBytes {
        case inLine(Range<Int>)
        case unescaped
    }

    private mutating func object(names: [[UInt8]]) throws -> [String?] {
        var values = [String?](repeating: nil, count: names.count)
        // A byte order mark (a file's first line may have one) is let through, as Foundation's
        // reader let it through.
        if line.starts(with: [0xEF, 0xBB, 0xBF]) { offset = 3 }
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else { throw Failure.malformed }
        if try !opensEmpty(closing: UInt8(ascii: "}")) {
            while true {
                let key = try memberKey()
                if let wanted = names.firstIndex(where: { name in name.withUnsafeBufferPointer { equals($0, key) } }) {
                    values[wanted] = try keptValue()
                } else {
                    try skipValue(depth: 1)
                }
                if try endsAfterMember(UInt8(ascii: "}")) { break }
            }
        }
        skipWhitespace()
        guard offset == line.count else { throw Failure.malformed }
        return values
    }

    /// Moves past a container's opening byte (at `offset`) and the whitespace after it; true,
    /// past `closing` too, when the container is empty.
    private mutating func opensEmpty(closing: UInt8) throws -> Bool {
        offset += 1
        skipWhitespace()
        guard peek() == closing else { return false }
        offset += 1
        return true
    }

    /// An object member's key (checked as UTF-8), moved past it, its colon and the whitespace
    /// around them, to the member's value.
    private mutating func memberKey() throws -> StringBytes {
        skipWhitespace()
        let key = try string()
        try checkUTF8(key)
        skipWhitespace()
        try expect(UInt8(ascii: ":"))
        skipWhitespace()
        return key
    }

    /// After a member or element: true past the container's `closing` byte, false past a
    /// comma that another member follows. One comma before the closing byte is let through
    /// (`{"a": 1,}`), as Foundation's reader let it through.
    private mutating func endsAfterMember(_ closing: UInt8) throws -> Bool {
        skipWhitespace()
        let byte = try next()
        if byte == closing { return true }
        guard byte == UInt8(ascii: ",") else { throw Failure.malformed }
        skipWhitespace()
        guard peek() == closing else { return false }
        offset += 1
        return true
    }

    /// A wanted member's value: a string or a number as text, nil for anything else (skipped).
    private mutating func keptValue() throws -> String? {
        switch peek() ?? 0 {
        case UInt8(ascii: "\""):
            let bytes = try string()
            guard let text = withBytes(of: bytes, { String(validating: $0, as: UTF8.self) }) else { throw Failure.invalidUTF8 }
            return text
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = offset
            try number()
            return String(decoding: UnsafeBufferPointer(rebasing: line[start..<offset]), as: UTF8.self)
        default:
            try skipValue(depth: 1)
            return nil
        }
    }

    private func equals(_ name: UnsafeBufferPointer<UInt8>, _ key: StringBytes) -> Bool {
        withBytes(of: key) { $0.count == name.count && $0.elementsEqual(name) }
    }

    /// Calls `body` with the bytes of a string read.
    private func withBytes<Result>(of bytes: StringBytes, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        switch bytes {
        case .inLine(let range): body(UnsafeBufferPointer(rebasing: line[range]))
        case .unescaped: unescaped.withUnsafeBufferPointer(body)
        }
    }

    private mutating func skipValue(depth: Int) throws {
        guard depth <= Self.maximumDepth else { throw Failure.malformed }
        switch peek() ?? 0 {
        case UInt8(ascii: "\""):
            // Two statements: `checkUTF8(string())` would take `self` (and its `unescaped`)
            // as it was before `string()` changed it.
            let bytes = try string()
            try checkUTF8(bytes)
        case UInt8(ascii: "{"):
            if try opensEmpty(closing: UInt8(ascii: "}")) { return }
            while true {
                _ = try memberKey()
                try skipValue(depth: depth + 1)
                if try endsAfterMember(UInt8(ascii: "}")) { return }
            }
        case UInt8(ascii: "["):
            if try opensEmpty(closing: UInt8(ascii: "]")) { return }
            while true {
                skipWhitespace()
                try skipValue(depth: depth + 1)
                if try endsAfterMember(UInt8(ascii: "]")) { return }
            }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try number()
        }
    }

    /// A string at `offset` (its opening quote), moved past. Control characters must be
    /// escaped; a `\u` escape of half a surrogate pair must be followed by the other half.
    private mutating func string() throws -> StringBytes {
        try expect(UInt8(ascii: "\""))
        let start = offset
        var hasEscapes = false
        while true {
            // Plain bytes are taken a run at a time: a body's text has an escape every few
            // hundred bytes (`\n`, `\"`), and appended a byte at a time after the first,
            // reading took 47 instructions a byte.
            let run = offset
            offset = Self.plainRunEnd(line, from: offset)
            if hasEscapes { unescaped.append(contentsOf: UnsafeBufferPointer(rebasing: line[run..<offset])) }
            let byte = try next()
            if byte == UInt8(ascii: "\"") { return hasEscapes ? .unescaped : .inLine(start..<(offset - 1)) }
            guard byte == UInt8(ascii: "\\") else { throw Failure.malformed }  // a control character
            if !hasEscapes {
                hasEscapes = true
                unescaped.removeAll(keepingCapacity: true)
                unescaped.append(contentsOf: UnsafeBufferPointer(rebasing: line[start..<(offset - 1)]))
            }
            let escape = try next()
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): unescaped.append(escape)
            case UInt8(ascii: "b"): unescaped.append(0x08)
            case UInt8(ascii: "f"): unescaped.append(0x0C)
            case UInt8(ascii: "n"): unescaped.append(0x0A)
            case UInt8(ascii: "r"): unescaped.append(0x0D)
            case UInt8(ascii: "t"): unescaped.append(0x09)
            case UInt8(ascii: "u"):
                var value = try hexQuad()
                if (0xD800...0xDBFF).contains(value) {
                    guard try next() == UInt8(ascii: "\\"), try next() == UInt8(ascii: "u") else { throw Failure.malformed }
                    let low = try hexQuad()
                    guard (0xDC00...0xDFFF).contains(low) else { throw Failure.malformed }
                    value = 0x10000 + (value - 0xD800) << 10 + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(value) {
                    throw Failure.malformed
                }
                // Not a surrogate (those are paired above or refused), so a scalar.
                UTF8.encode(Unicode.Scalar(value)!) { unescaped.append($0) }
            default:
                throw Failure.malformed
            }
        }
    }

    /// Where the run of bytes from `start` that a string takes as they are ends: at the first
    /// quote, backslash or control character (or the line's end). Eight bytes are tested at
    /// once (a byte is zero where `(x - 0x01…) & ~x & 0x80…` has its high bit).
    private static func plainRunEnd(_ line: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        if let base = line.baseAddress {
            let raw = UnsafeRawPointer(base)
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            while index + 8 <= line.count {
                let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
                let special = ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (word &- ones &* 0x20) & ~word) & highs
                if special != 0 { break }
                index += 8
            }
        }
        while index < line.count {
            let byte = line[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            index += 1
        }
        return index
    }

    /// Throws unless a string not kept (a key, a skipped member's) is valid UTF-8, as a kept
    /// one must be: a line with invalid UTF-8 anywhere is refused.
    private func checkUTF8(_ bytes: StringBytes) throws {
        guard withBytes(of: bytes, Self.isValidUTF8) else { throw Failure.invalidUTF8 }
    }

    /// Whether `bytes` are well-formed UTF-8 (no overlong forms, surrogates or scalars past
    /// U+10FFFF).
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        func continues(_ count: Int) -> Bool {
            guard index + count < bytes.count else { return false }
            return (1...count).allSatisfy { bytes[index + $0] & 0xC0 == 0x80 }
        }
        while index < bytes.count {
            let lead = bytes[index]
            switch lead {
            case 0x00...0x7F:
                index += 1
            case 0xC2...0xDF:
                guard continues(1) else { return false }
                index += 2
            case 0xE0...0xEF:
                // E0 must not be overlong (A0 on), ED must not reach the surrogates (below A0).
                guard continues(2), lead != 0xE0 || bytes[index + 1] >= 0xA0, lead != 0xED || bytes[index + 1] < 0xA0 else { return false }
                index += 3
            case 0xF0...0xF4:
                // F0 must not be overlong (90 on), F4 must not pass U+10FFFF (below 90).
                guard continues(3), lead != 0xF0 || bytes[index + 1] >= 0x90, lead != 0xF4 || bytes[index + 1] < 0x90 else { return false }
                index += 4
            default:
                return false
            }
        }
        return true
    }

    private mutating func hexQuad() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = try next()
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Failure.malformed
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func number() throws {
        if peek() == UInt8(ascii: "-") { offset += 1 }
        if peek() == UInt8(ascii: "0") {
            offset += 1
        } else {
            try digits()
        }
        if peek() == UInt8(ascii: ".") {
            offset += 1
            try digits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            offset += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { offset += 1 }
            try digits()
        }
    }

    /// One digit or more.
    private mutating func digits() throws {
        let start = offset
        while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { offset += 1 }
        guard offset > start else { throw Failure.malformed }
    }

    private mutating func literal(_ word: StaticString) throws {
        let bytes = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard line.count - offset >= bytes.count, line[offset..<(offset + bytes.count)].elementsEqual(bytes) else { throw Failure.malformed }
        offset += bytes.count
    }

    private mutating func skipWhitespace() {
        while offset < line.count {
            switch line[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    private func peek() -> UInt8? { offset < line.count ? line[offset] : nil }

    private mutating func next() throws -> UInt8 {
        guard offset < line.count else { throw Failure.malformed }
        offset += 1
        return line[offset - 1]
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard try next() == byte else { throw Failure.malformed }
    }
}
