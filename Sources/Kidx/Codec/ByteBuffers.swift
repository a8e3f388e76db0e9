import Foundation

/// Appends little-endian integers, variable-byte integers and bytes to a growing buffer.
struct ByteWriter {
    var bytes: [UInt8] = []

    var count: Int { bytes.count }

    mutating func append(_ byte: UInt8) { bytes.append(byte) }

    mutating func append<S: Sequence>(contentsOf other: S) where S.Element == UInt8 { bytes.append(contentsOf: other) }

    /// Variable-byte: seven bits a byte, low bits first, high bit set on all but the last byte.
    mutating func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func appendVarint(_ value: Int) { appendVarint(UInt64(value)) }

    mutating func appendUInt32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func appendUInt64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A length-prefixed UTF-8 string.
    mutating func appendString(_ string: String) {
        var string = string
        string.withUTF8 {
            appendVarint($0.count)
            bytes.append(contentsOf: $0)
        }
    }

    mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }
}

/// Reads what `ByteWriter` wrote from borrowed memory, checking every read against the end so that
/// damaged data throws instead of reading out of bounds.
struct ByteReader {
    let base: UnsafeRawBufferPointer
    var offset: Int
    /// Names the file in errors.
    let file: String

    init(_ base: UnsafeRawBufferPointer, offset: Int = 0, file: String) {
        self.base = base
        self.offset = offset
        self.file = file
    }

    var isAtEnd: Bool { offset >= base.count }

    func corrupt(_ reason: String) -> KidxError { .corruptIndex(file: file, reason: reason) }

    mutating func readByte() throws -> UInt8 {
        guard offset < base.count else { throw corrupt("unexpected end of data at byte \(offset)") }
        defer { offset += 1 }
        return base[offset]
    }

    /// One-byte values (most gaps, lengths and counts) are read inline; longer ones by
    /// `readLongVarint` (FANG queries: 5 to 7 % fewer instructions).
    @inline(__always)
    mutating func readVarint() throws -> UInt64 {
        if offset < base.count, base[offset] < 0x80 {
            offset += 1
            return UInt64(base[offset - 1])
        }
        return try readLongVarint()
    }

    /// A variable-byte number of at most 32 bits at `offset` in `data`, which moves past it; nil
    /// past the end or when larger. Not throwing, for loops that run per position or per
    /// block and report damage once.
    @inline(__always)
    static func varint32(_ data: UnsafeRawBufferPointer, _ offset: inout Int) -> UInt32? {
        guard let value = varint64(data, &offset), value <= UInt32.max else { return nil }
        return UInt32(value)
    }

    /// A variable-byte number of at most 64 bits at `offset` in `data`, which moves past it; nil
    /// past the end or when longer. Not throwing, for decoders that report damage once.
    @inline(__always)
    static func varint64(_ data: UnsafeRawBufferPointer, _ offset: inout Int) -> UInt64? {
        guard offset < data.count else { return nil }
        let first = data.load(fromByteOffset: offset, as: UInt8.self)
        offset += 1
        if first < 0x80 { return UInt64(first) }
        var result = UInt64(first & 0x7F), shift: UInt64 = 7
        while offset < data.count, shift < 64 {
            let byte = data.load(fromByteOffset: offset, as: UInt8.self)
            offset += 1
            result |= UInt64(byte & 0x7F) &<< shift
            if byte < 0x80 { return result }
            shift += 7
        }
        return nil
    }

    private mutating func readLongVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < base.count else { throw corrupt("unexpected end of data at byte \(offset)") }
            let byte = base[offset]
            offset += 1
            guard shift < 64 else { throw corrupt("variable-byte integer too long at byte \(offset)") }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    @inline(__always)
    mutating func readInt() throws -> Int {
        let value = try readVarint()
        guard value <= UInt64(Int.max) else { throw corrupt("integer out of range at byte \(offset)") }
        return Int(value)
    }

    mutating func readUInt32() throws -> UInt32 {
        guard offset + 4 <= base.count else { throw corrupt("unexpected end of data at byte \(offset)") }
        defer { offset += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    mutating func readUInt64() throws -> UInt64 {
        guard offset + 8 <= base.count else { throw corrupt("unexpected end of data at byte \(offset)") }
        defer { offset += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// A fixed 8-byte count that must not exceed `limit` (a damaged count would overflow or
    /// trap when converted).
    mutating func readCount(atMost limit: Int) throws -> Int {
        let value = try readUInt64()
        guard value <= UInt64(max(0, limit)) else { throw corrupt("count \(value) does not fit the file") }
        return Int(value)
    }

    mutating func readBytes(_ count: Int) throws -> UnsafeRawBufferPointer {
        // `count` may be any damaged number: compared with what is left, so it cannot overflow.
        guard count >= 0, count <= base.count - offset else { throw corrupt("length \(count) runs past the end at byte \(offset)") }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: base[offset..<offset + count])
    }

    mutating func readString() throws -> String {
        let length = try readInt()
        let bytes = try readBytes(length)
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The order of keys and words as byte strings (dictionary keys, words in key order), compared
/// with `memcmp`: the generic `lexicographicallyPrecedes` compares element by element through
/// iterators, which made sorting a part's words and terms a visible share of a commit.
enum ByteOrder {
    /// -1, 0 or 1 as `a` sorts before, with or after `b`.
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let count = min(a.count, b.count)
        let order = count == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, count)
        if order != 0 { return order < 0 ? -1 : 1 }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    /// Whether the bytes of `a` sort before those of `b`.
    static func precedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { a in b.withUnsafeBytes { b in compare(a, b) < 0 } }
    }

    /// Whether the UTF-8 bytes of `a` sort before those of `b`.
    static func precedes(_ a: String, _ b: String) -> Bool {
        // Native strings lend their bytes; others (bridged, never here) are compared as copies.
        let fast = a.utf8.withContiguousStorageIfAvailable { a in
            b.utf8.withContiguousStorageIfAvailable { b in compare(UnsafeRawBufferPointer(a), UnsafeRawBufferPointer(b)) < 0 }
        }
        return (fast ?? nil) ?? precedes(Array(a.utf8), Array(b.utf8))
    }
}
