/// Packs blocks of 128 unsigned integers with one bit width per block (the frame-of-reference
/// family used by Lucene, Tantivy and PISA): a block of width `w` takes `16 * w` bytes.
enum BitPacking {
    static let blockSize = 128

    /// The number of bits the largest value needs (0 for an all-zero block).
    static func bitWidth(_ values: UnsafeBufferPointer<UInt32>) -> Int {
        var union: UInt32 = 0
        for value in values { union |= value }
        return UInt32.bitWidth - union.leadingZeroBitCount
    }

    /// Appends `values.count` (128) values of `width` bits, low bits first.
    static func pack(_ values: UnsafeBufferPointer<UInt32>, width: Int, into output: inout [UInt8]) {
        guard width > 0 else { return }
        var accumulator: UInt64 = 0
        var bits = 0
        for value in values {
            accumulator |= UInt64(value) << UInt64(bits)
            bits += width
            while bits >= 8 {
                output.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator >>= 8
                bits -= 8
            }
        }
        if bits > 0 { output.append(UInt8(truncatingIfNeeded: accumulator)) }
    }

    /// The bytes a packed block of `count` values of `width` bits takes.
    static func packedSize(count: Int, width: Int) -> Int { (count * width + 7) / 8 }

    /// Unpacks `count` values of `width` bits from `source`, which must hold `packedSize` bytes.
    static func unpack(_ source: UnsafeRawPointer, count: Int, width: Int, into output: UnsafeMutablePointer<UInt32>) {
        guard width > 0 else {
            output.update(repeating: 0, count: count)
            return
        }
        let mask = width == 32 ? UInt64(UInt32.max) : (UInt64(1) << UInt64(width)) - 1
        let byteCount = packedSize(count: count, width: width)
        var accumulator: UInt64 = 0
        var bits = 0
        var offset = 0
        for index in 0..<count {
            while bits < width {
                // Eight bytes at once where the block has them, one at a time at its end.
                if bits <= 0 && offset + 8 <= byteCount {
                    let word = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                    accumulator = word
                    bits = 64
                    offset += 8
                } else {
                    accumulator |= UInt64(source.load(fromByteOffset: offset, as: UInt8.self)) << UInt64(bits)
                    offset += 1
                    bits += 8
                }
            }
            output[index] = UInt32(truncatingIfNeeded: accumulator & mask)
            accumulator = width == 64 ? 0 : accumulator >> UInt64(width)
            bits -= width
        }
    }

    /// Unpacks a whole block (`blockSize` values of `width` bits) from `source`, which must be
    /// followed by at least 8 readable bytes past the packed ones (a value is read as 64 bits
    /// from its first byte). One copy of the loop per width, unrolled with constant shifts: about
    /// four instructions a value instead of the ten of `unpack`.
    static func unpackBlock(_ source: UnsafeRawPointer, width: Int, into output: UnsafeMutablePointer<UInt32>) {
        switch width {
        case 0: output.update(repeating: 0, count: blockSize)
        case 1: unpackBlock(source, constantWidth: 1, into: output)
        case 2: unpackBlock(source, constantWidth: 2, into: output)
        case 3: unpackBlock(source, constantWidth: 3, into: output)
        case 4: unpackBlock(source, constantWidth: 4, into: output)
        case 5: unpackBlock(source, constantWidth: 5, into: output)
        case 6: unpackBlock(source, constantWidth: 6, into: output)
        case 7: unpackBlock(source, constantWidth: 7, into: output)
        case 8: unpackBlock(source, constantWidth: 8, into: output)
        case 9: unpackBlock(source, constantWidth: 9, into: output)
        case 10: unpackBlock(source, constantWidth: 10, into: output)
        case 11: unpackBlock(source, constantWidth: 11, into: output)
        case 12: unpackBlock(source, constantWidth: 12, into: output)
        case 13: unpackBlock(source, constantWidth: 13, into: output)
        case 14: unpackBlock(source, constantWidth: 14, into: output)
        case 15: unpackBlock(source, constantWidth: 15, into: output)
        case 16: unpackBlock(source, constantWidth: 16, into: output)
        default: unpack(source, count: blockSize, width: width, into: output)
        }
    }

    @inline(__always)
    private static func unpackBlock(_ source: UnsafeRawPointer, constantWidth width: Int, into output: UnsafeMutablePointer<UInt32>) {
        let mask = (UInt64(1) << UInt64(width)) - 1
        for index in 0..<blockSize {
            let bit = index * width
            let word = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self))
            output[index] = UInt32(truncatingIfNeeded: (word >> UInt64(bit & 7)) & mask)
        }
    }
}
