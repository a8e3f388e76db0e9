/// Packs blocks of 128 unsigned integers with one bit width per block (the frame-of-reference
/// family used by Lucene, Tantivy and PISA), in four interleaved lanes as SIMD-BP128 does: value
/// `i` goes to lane `i % 4`, each lane packs its 32 values low bits first into 32-bit words, and
/// the lanes' words alternate. One SIMD step then decodes four values. A block of width `w`
/// takes `16 * w` bytes.
enum BitPacking {
    static let blockSize = 128
    private static let lanes = 4

    /// The number of bits the largest value needs (0 for an all-zero block).
    static func bitWidth(_ values: UnsafeBufferPointer<UInt32>) -> Int {
        var union: UInt32 = 0
        for value in values { union |= value }
        return UInt32.bitWidth - union.leadingZeroBitCount
    }

    /// The bytes a packed block of `width` bits takes: `width` 32-bit words per lane.
    static func blockBytes(width: Int) -> Int { lanes * 4 * width }

    /// Appends a block (`blockSize` values) of `width` bits.
    static func packBlock(_ values: UnsafeBufferPointer<UInt32>, width: Int, into output: inout [UInt8]) {
        precondition(values.count == blockSize, "a block has \(blockSize) values")
        guard width > 0 else { return }
        var words = [UInt32](repeating: 0, count: lanes * width)
        for lane in 0..<lanes {
            var bit = 0
            for index in stride(from: lane, to: blockSize, by: lanes) {
                let value = UInt64(values[index]), word = bit >> 5, shift = bit & 31
                words[word * lanes + lane] |= UInt32(truncatingIfNeeded: value << UInt64(shift))
                if shift + width > 32 { words[(word + 1) * lanes + lane] |= UInt32(truncatingIfNeeded: value >> UInt64(32 - shift)) }
                bit += width
            }
        }
        for word in words { withUnsafeBytes(of: word.littleEndian) { output.append(contentsOf: $0) } }
    }

    /// Unpacks a block of `width` bits from `source`, which must hold `blockBytes(width:)` bytes. The
    /// widths of real posting lists (up to 16) get a copy of the loop each, unrolled with
    /// constant shifts.
    static func unpackBlock(_ source: UnsafeRawPointer, width: Int, into output: UnsafeMutablePointer<UInt32>) {
        switch width {
        case 0: output.update(repeating: 0, count: blockSize)
        case 1: unpackLanes(source, width: 1, into: output)
        case 2: unpackLanes(source, width: 2, into: output)
        case 3: unpackLanes(source, width: 3, into: output)
        case 4: unpackLanes(source, width: 4, into: output)
        case 5: unpackLanes(source, width: 5, into: output)
        case 6: unpackLanes(source, width: 6, into: output)
        case 7: unpackLanes(source, width: 7, into: output)
        case 8: unpackLanes(source, width: 8, into: output)
        case 9: unpackLanes(source, width: 9, into: output)
        case 10: unpackLanes(source, width: 10, into: output)
        case 11: unpackLanes(source, width: 11, into: output)
        case 12: unpackLanes(source, width: 12, into: output)
        case 13: unpackLanes(source, width: 13, into: output)
        case 14: unpackLanes(source, width: 14, into: output)
        case 15: unpackLanes(source, width: 15, into: output)
        case 16: unpackLanes(source, width: 16, into: output)
        default: unpackLanes(source, width: width, into: output)
        }
    }

    /// Four values a step: the lanes' words at `bit`, shifted and masked together (words are
    /// read as stored, little-endian, which is every platform Swift runs kidx on).
    @inline(__always)
    private static func unpackLanes(_ source: UnsafeRawPointer, width: Int, into output: UnsafeMutablePointer<UInt32>) {
        let mask = SIMD4<UInt32>(repeating: width == 32 ? .max : (1 << UInt32(width)) - 1)
        let target = UnsafeMutableRawPointer(output)
        var bit = 0
        for step in 0..<blockSize / lanes {
            let word = bit >> 5, shift = bit & 31
            var values = source.loadUnaligned(fromByteOffset: word * 16, as: SIMD4<UInt32>.self) &>> UInt32(shift)
            if shift + width > 32 {
                values |= source.loadUnaligned(fromByteOffset: word * 16 + 16, as: SIMD4<UInt32>.self) &<< UInt32(32 - shift)
            }
            target.storeBytes(of: values & mask, toByteOffset: step * 16, as: SIMD4<UInt32>.self)
            bit += width
        }
    }
}
