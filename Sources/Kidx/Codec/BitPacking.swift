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
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: lanes * width) { words in
            words.initialize(repeating: 0)
            for lane in 0..<lanes {
                var bit = 0
                for index in stride(from: lane, to: blockSize, by: lanes) {
                    let value = UInt64(values[index]), word = bit >> 5, shift = bit & 31
                    words[word * lanes + lane] |= UInt32(truncatingIfNeeded: value << UInt64(shift))
                    if shift + width > 32 { words[(word + 1) * lanes + lane] |= UInt32(truncatingIfNeeded: value >> UInt64(32 - shift)) }
                    bit += width
                }
            }
            for index in words.indices { words[index] = words[index].littleEndian }
            output.append(contentsOf: UnsafeRawBufferPointer(words))
        }
    }

    /// The most exceptions a patched run holds. Up to 3 a token's top two bits count them, from
    /// 3 on a byte after it does: with 3 at most, FANG's positions took 17.45 MB and its
    /// postings 28.06 MB; with 15, 17.16 and 27.38 MB, for 1.3 % more instructions per query
    /// (OR 418.7 k → 424.2 k, AND 501.8 k → 508.3 k: more exceptions patched per block).
    static let maximumExceptions = 15

    /// Appends a patched run of 1 to `blockSize` values (PFOR, as Lucene's postings code
    /// them): a token byte (the bit width in its low six bits, in its top two the number of
    /// exceptions, 3 meaning that a byte after the token holds it), the values' low bits packed
    /// at that width (a full block in lanes, `packBlock`; a shorter run one value after
    /// another, `packRun`), and per exception its index (a byte) and the bits above the width
    /// (variable-byte). The width is the one that makes the run smallest, so a few large gaps
    /// or frequencies no longer widen the other values (FANG's postings: 34.4 MB with one
    /// width per block, 31.8 MB patched).
    static func appendPatched(_ values: UnsafeBufferPointer<UInt32>, to output: inout ByteWriter) {
        precondition(values.count >= 1 && values.count <= blockSize, "a run has 1 to \(blockSize) values")
        // The values counted by bit width: the exceptions at a width are the values wider than
        // it, and what they cost follows from their widths. Kept on the stack, as is everything
        // here: with arrays for the largest values, the exceptions and the low bits, the
        // allocations took more than the packing (a build of 3,000 FANG articles in parts,
        // callgrind: 3.12 G instructions in this function with them, 0.77 G without).
        withUnsafeTemporaryAllocation(of: Int.self, capacity: UInt32.bitWidth + 1) { counts in
            counts.initialize(repeating: 0)
            for value in values { counts[UInt32.bitWidth - value.leadingZeroBitCount] += 1 }
            let count = values.count, fullWidth = bitWidth(values)
            var width = fullWidth, exceptionCount = 0, smallest = packedBytes(count: count, width: fullWidth)
            var above = 0
            for candidate in stride(from: fullWidth - 1, through: 0, by: -1) {
                above += counts[candidate + 1]
                guard above <= maximumExceptions else { break }
                var size = packedBytes(count: count, width: candidate) + (above >= 3 ? 1 : 0)
                for exceptionWidth in (candidate + 1)...fullWidth {
                    size += counts[exceptionWidth] * (1 + max(1, (exceptionWidth - candidate + 6) / 7))  // index, high bits
                }
                if size < smallest {
                    (width, exceptionCount, smallest) = (candidate, above, size)
                }
            }
            output.append(UInt8(width | min(exceptionCount, 3) << 6))
            if exceptionCount >= 3 { output.append(UInt8(exceptionCount)) }
            func pack(_ values: UnsafeBufferPointer<UInt32>) {
                if count == blockSize { packBlock(values, width: width, into: &output.bytes) } else { packRun(values, width: width, into: &output) }
            }
            guard exceptionCount > 0 else { return pack(values) }
            let mask: UInt32 = (1 << UInt32(width)) - 1  // width < 32: a value is above it
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: count) { low in
                for index in 0..<count { low.initializeElement(at: index, to: values[index] & mask) }
                pack(UnsafeBufferPointer(low))
            }
            for index in 0..<count where values[index] > mask {
                output.append(UInt8(index))
                output.appendVarint(UInt64(values[index] >> UInt32(width)))
            }
        }
    }

    /// The bytes `count` values of `width` bits take packed: a full block's in lanes, a shorter
    /// run's one after another (rounded up to a byte).
    static func packedBytes(count: Int, width: Int) -> Int {
        count == blockSize ? blockBytes(width: width) : (count * width + 7) / 8
    }

    /// Appends values of `width` bits one after another, low bits first, in `packedBytes` bytes.
    static func packRun(_ values: UnsafeBufferPointer<UInt32>, width: Int, into output: inout ByteWriter) {
        var pending: UInt64 = 0, bits = 0
        for value in values {
            pending |= UInt64(value) << UInt64(bits)
            bits += width
            while bits >= 8 {
                output.append(UInt8(truncatingIfNeeded: pending))
                pending >>= 8
                bits -= 8
            }
        }
        if bits > 0 { output.append(UInt8(truncatingIfNeeded: pending)) }
    }

    /// Reads `count` values `packRun` packed at `width` bits from `base` at `offset`, which
    /// must hold `packedBytes(count:width:)` bytes there. Each value is shifted out of the
    /// eight bytes where it starts, loaded at once while the buffer has eight, else byte by
    /// byte (only the last few values of a run at the very end of a file).
    @inline(__always)
    static func unpackRun(_ base: UnsafeRawBufferPointer, at offset: Int, count: Int, width: Int, into output: UnsafeMutablePointer<UInt32>) {
        guard width > 0 else { return output.update(repeating: 0, count: count) }
        let mask: UInt64 = (1 << UInt64(width)) - 1
        // Values before `loaded` start at least eight bytes before the buffer's end.
        let room = base.count - 8 - offset
        let loaded = room < 0 ? 0 : min(count, (room * 8 + 7) / width + 1)
        let start = base.baseAddress! + offset
        var bit = 0
        for index in 0..<loaded {
            let word = UInt64(littleEndian: start.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self))
            output[index] = UInt32(truncatingIfNeeded: (word >> UInt64(bit & 7)) & mask)
            bit += width
        }
        for index in loaded..<count {
            let byte = offset + bit >> 3
            var word: UInt64 = 0
            for next in byte..<min(byte + 8, base.count) { word |= UInt64(base[next]) << UInt64(8 * (next - byte)) }
            output[index] = UInt32(truncatingIfNeeded: (word >> UInt64(bit & 7)) & mask)
            bit += width
        }
    }

    /// Reads a run `appendPatched` wrote at `offset` in `base` into `output` (`count` values,
    /// as written) and moves `offset` past it. False, with `offset` where the damage was seen,
    /// on a run that runs past the end, a width over 32, or an exception outside the run or
    /// wider than 32 bits. Not throwing and inlined: a cursor decodes two blocks per 128
    /// documents it reaches, inside its buffers' closures.
    @inline(__always)
    static func readPatched(_ base: UnsafeRawBufferPointer, _ offset: inout Int, count: Int = blockSize,
                            into output: UnsafeMutablePointer<UInt32>) -> Bool {
        guard offset < base.count else { return false }
        let token = base[offset]
        let width = Int(token & 0x3F)
        var exceptionCount = Int(token >> 6), start = offset + 1
        if exceptionCount == 3 {
            guard start < base.count else { return false }
            exceptionCount = Int(base[start])
            start += 1
            guard exceptionCount >= 3, exceptionCount <= maximumExceptions else { return false }
        }
        let bytes = packedBytes(count: count, width: width)
        guard width <= 32, bytes <= base.count - start else { return false }
        if count == blockSize {
            unpackBlock(base.baseAddress! + start, width: width, into: output)
        } else {
            unpackRun(base, at: start, count: count, width: width, into: output)
        }
        offset = start + bytes
        return exceptionCount == 0 || patch(base, &offset, exceptionCount, count: count, width: width, into: output)
    }

    /// Reads a patched run's exceptions into its `count` unpacked values.
    private static func patch(_ base: UnsafeRawBufferPointer, _ offset: inout Int, _ exceptions: Int, count: Int, width: Int,
                              into output: UnsafeMutablePointer<UInt32>) -> Bool {
        guard width < 32 else { return false }
        for _ in 0..<exceptions {
            guard offset < base.count else { return false }
            let index = Int(base[offset])
            offset += 1
            guard let high = ByteReader.varint32(base, &offset), index < count, high <= UInt32.max >> UInt32(width) else { return false }
            output[index] |= high << UInt32(width)
        }
        return true
    }

    /// Unpacks a block of `width` bits from `source`, which must hold `blockBytes(width:)` bytes. The
    /// widths of real posting lists (up to 16) get a copy of the steps each, with constant shifts.
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
    /// read as stored, little-endian, which is every platform Swift runs kidx on). The 32 steps
    /// (`blockSize / lanes`) are written out: inlined for a constant width, every shift and
    /// offset is a constant and no step branches, where the compiler kept a loop with computed
    /// shifts (FANG OR queries: `unpackBlock` 68.0 k → 24.1 k instructions per query, 607.5 k →
    /// 563.4 k in all).
    @inline(__always)
    private static func unpackLanes(_ source: UnsafeRawPointer, width: Int, into output: UnsafeMutablePointer<UInt32>) {
        let mask = SIMD4<UInt32>(repeating: width == 32 ? .max : (1 << UInt32(width)) - 1)
        let target = UnsafeMutableRawPointer(output)
        @inline(__always) func step(_ step: Int) {
            let bit = step * width, word = bit >> 5, shift = bit & 31
            var values = source.loadUnaligned(fromByteOffset: word * 16, as: SIMD4<UInt32>.self) &>> UInt32(shift)
            if shift + width > 32 {
                values |= source.loadUnaligned(fromByteOffset: word * 16 + 16, as: SIMD4<UInt32>.self) &<< UInt32(32 - shift)
            }
            target.storeBytes(of: values & mask, toByteOffset: step * 16, as: SIMD4<UInt32>.self)
        }
        step(0); step(1); step(2); step(3); step(4); step(5); step(6); step(7)
        step(8); step(9); step(10); step(11); step(12); step(13); step(14); step(15)
        step(16); step(17); step(18); step(19); step(20); step(21); step(22); step(23)
        step(24); step(25); step(26); step(27); step(28); step(29); step(30); step(31)
    }
}
