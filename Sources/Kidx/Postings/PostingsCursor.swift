/// Reads one posting list document by document, decoding a block of 128 at a time and
/// skipping whole blocks with the skip table.
///
/// Starts before the first document: call `next()` or `advance(to:)` first. After the end,
/// `doc` is `PostingsCursor.exhausted`.
struct PostingsCursor {
    /// The `doc` of a cursor past its last document.
    static let exhausted = Int32.max

    /// The per-block summary read from the skip table.
    struct BlockSummary {
        var lastDoc: Int32
        var postingsOffset: Int
        var positionsOffset: Int
        var maxFreq: UInt32
        var minNorm: UInt8
    }

    let docFreq: Int
    /// The files read, which verify each chunk's checksum the first time it is decoded.
    private let postingsFile: MappedIndexFile
    private let positionsFile: MappedIndexFile
    private let postings: UnsafeRawBufferPointer
    private let positionsData: UnsafeRawBufferPointer
    private let file: String
    private(set) var blocks: [BlockSummary] = []
    /// The tail's summary (its `lastDoc` is unknown before decoding: `exhausted - 1`).
    private(set) var tail: BlockSummary?
    private var tailOffset = 0
    private var tailPositionsOffset = 0

    /// Decoded documents and frequencies of the current block.
    private var docs = [Int32](repeating: 0, count: BitPacking.blockSize)
    private var freqs = [UInt32](repeating: 0, count: BitPacking.blockSize)
    private var blockIndex = -1
    private var blockCount = 0
    private var slot = -1
    private var readTail = false

    /// Position reading state: the offset of the current block's positions and how many position
    /// entries precede the current document in it.
    private var positionsOffset = 0
    private var positionsToSkip = 0
    private var positionsReadUpTo = 0

    private(set) var doc: Int32 = -1

    /// The current document's term frequency (stored, not computed: a scorer reads it through a
    /// class without copying the cursor).
    private(set) var freq: UInt32 = 0

    init(docFreq: Int, postingsOffset: Int, positionsOffset: Int, postings postingsFile: MappedIndexFile, positions positionsFile: MappedIndexFile) throws {
        self.docFreq = docFreq
        self.postingsFile = postingsFile
        self.positionsFile = positionsFile
        let postings = postingsFile.body, positions = positionsFile.body
        self.postings = postings
        self.positionsData = positions
        let file = postingsFile.name
        self.file = file
        let fullBlocks = docFreq / BitPacking.blockSize
        // Each skip entry takes at least five bytes: a damaged count must not allocate wildly.
        guard docFreq > 0, postingsOffset >= 0, positionsOffset >= 0, positionsOffset <= positions.count,
              postingsOffset <= postings.count, fullBlocks * 5 <= postings.count - postingsOffset else {
            throw KidxError.corruptIndex(file: file, reason: "posting list address out of range")
        }
        var reader = ByteReader(postings, offset: postingsOffset, file: file)
        blocks.reserveCapacity(fullBlocks)
        var lastDoc: Int32 = -1
        var blockOffsets: [(Int, Int)] = []
        var totalBlockBytes = 0, totalPositionBytes = 0
        for _ in 0..<fullBlocks {
            let next = lastDoc &+ Int32(truncatingIfNeeded: try reader.readVarint())
            guard next > lastDoc else { throw KidxError.corruptIndex(file: file, reason: "skip table out of order") }
            lastDoc = next
            let blockBytes = try reader.readInt()
            let positionBytes = try reader.readInt()
            // Damaged sizes must fail here, before they are summed (and could overflow).
            guard blockBytes <= postings.count, positionBytes <= positions.count else {
                throw KidxError.corruptIndex(file: file, reason: "skip entry sizes out of range")
            }
            let maxFreq = UInt32(truncatingIfNeeded: try reader.readVarint())
            let minNorm = try reader.readByte()
            blockOffsets.append((totalBlockBytes, totalPositionBytes))
            totalBlockBytes += blockBytes
            totalPositionBytes += positionBytes
            blocks.append(BlockSummary(lastDoc: lastDoc, postingsOffset: 0, positionsOffset: 0, maxFreq: maxFreq, minNorm: minNorm))
        }
        if docFreq % BitPacking.blockSize > 0 {
            let maxFreq = UInt32(truncatingIfNeeded: try reader.readVarint())
            tail = BlockSummary(lastDoc: Self.exhausted - 1, postingsOffset: 0, positionsOffset: 0, maxFreq: maxFreq, minNorm: try reader.readByte())
        }
        let dataStart = reader.offset
        try postingsFile.check(postingsOffset..<dataStart)
        for index in blocks.indices {
            blocks[index].postingsOffset = dataStart + blockOffsets[index].0
            blocks[index].positionsOffset = positionsOffset + blockOffsets[index].1
        }
        tailOffset = dataStart + totalBlockBytes
        tailPositionsOffset = positionsOffset + totalPositionBytes
        guard tailOffset <= postings.count, tailPositionsOffset <= positions.count else {
            throw KidxError.corruptIndex(file: file, reason: "posting list runs past the end of the file")
        }
    }

    /// Moves to the next document. Returns false at the end.
    mutating func next() throws -> Bool {
        if doc == Self.exhausted { return false }
        if slot + 1 < blockCount {
            positionsToSkip += Int(freqs[slot])
            slot += 1
            doc = docs[slot]
            freq = freqs[slot]
            return true
        }
        return try loadBlock(blockIndex + 1)
    }

    /// Moves to the first document at or after `target`. Returns false at the end.
    mutating func advance(to target: Int32) throws -> Bool {
        if doc >= target { return doc != Self.exhausted }
        // Skip whole blocks whose last document is below the target.
        var candidate = max(blockIndex, 0)
        while candidate < blocks.count, blocks[candidate].lastDoc < target { candidate += 1 }
        if candidate != blockIndex, candidate > blockIndex {
            guard try loadBlock(candidate) else { return false }
        }
        while doc < target {
            guard try next() else { return false }
        }
        return true
    }

    /// Decodes block `index` (or the tail) and positions on its first document.
    private mutating func loadBlock(_ index: Int) throws -> Bool {
        var previous: Int32
        if index < blocks.count {
            previous = index == 0 ? -1 : blocks[index - 1].lastDoc
            let start = blocks[index].postingsOffset
            var reader = ByteReader(postings, offset: start, file: file)
            for target in 0..<2 {
                let width = Int(try reader.readByte())
                guard width <= 32 else { throw KidxError.corruptIndex(file: file, reason: "bit width \(width) at byte \(reader.offset)") }
                let size = BitPacking.packedSize(count: BitPacking.blockSize, width: width)
                let bytes = try reader.readBytes(size)
                let source = bytes.baseAddress ?? UnsafeRawPointer(postings.baseAddress!)
                // The whole-block decoder reads up to 8 bytes past the block: fine inside the body.
                let roomAfter = reader.offset + 8 <= postings.count
                func unpack(into output: UnsafeMutablePointer<UInt32>) {
                    if roomAfter {
                        BitPacking.unpackBlock(source, width: width, into: output)
                    } else {
                        BitPacking.unpack(source, count: BitPacking.blockSize, width: width, into: output)
                    }
                }
                if target == 0 {
                    docs.withUnsafeMutableBufferPointer { output in
                        output.withMemoryRebound(to: UInt32.self) { unpack(into: $0.baseAddress!) }
                    }
                } else {
                    freqs.withUnsafeMutableBufferPointer { unpack(into: $0.baseAddress!) }
                }
            }
            try postingsFile.check(start..<reader.offset)
            // Gaps to ids and frequencies back from `freq - 1`, through the buffers directly: the
            // arrays are ours alone, and this loop runs once per 128 postings read.
            docs.withUnsafeMutableBufferPointer { docs in
                for slot in 0..<BitPacking.blockSize {
                    previous = previous &+ docs[slot] &+ 1
                    docs[slot] = previous
                }
            }
            freqs.withUnsafeMutableBufferPointer { freqs in
                for slot in 0..<BitPacking.blockSize { freqs[slot] &+= 1 }
            }
            // Damaged data shows as ids that do not ascend or overrun the skip table's last id.
            guard docs[0] >= 0, previous == blocks[index].lastDoc else {
                throw KidxError.corruptIndex(file: file, reason: "block \(index) does not match its skip entry")
            }
            blockCount = BitPacking.blockSize
            positionsOffset = blocks[index].positionsOffset
        } else if index == blocks.count, !readTail, docFreq % BitPacking.blockSize > 0 {
            readTail = true
            previous = blocks.last?.lastDoc ?? -1
            var reader = ByteReader(postings, offset: tailOffset, file: file)
            blockCount = docFreq % BitPacking.blockSize
            for slot in 0..<blockCount {
                let code = try reader.readVarint()
                let next = previous &+ Int32(truncatingIfNeeded: code >> 1) &+ 1
                guard next > previous else { throw KidxError.corruptIndex(file: file, reason: "document ids out of order") }
                previous = next
                docs[slot] = previous
                freqs[slot] = code & 1 == 1 ? 1 : UInt32(truncatingIfNeeded: try reader.readVarint())
            }
            try postingsFile.check(tailOffset..<reader.offset)
            positionsOffset = tailPositionsOffset
        } else {
            doc = Self.exhausted
            blockIndex = blocks.count + 1
            return false
        }
        blockIndex = index
        slot = 0
        positionsToSkip = 0
        positionsReadUpTo = positionsOffset
        doc = docs[0]
        freq = freqs[0]
        guard doc >= 0 else { throw KidxError.corruptIndex(file: file, reason: "negative document id in a posting list") }
        return true
    }

    /// The positions of the current document, ascending.
    mutating func positions(into output: inout [Int32]) throws {
        // Variable-byte deltas decoded straight from the mapping into the caller's buffer (this
        // runs once per candidate document of a phrase or proximity query): no reader object
        // per call, and the buffer is resized only when the count changes (clearing and
        // appending cost more than the decoding).
        var offset = positionsReadUpTo
        for _ in 0..<positionsToSkip {
            guard Self.varint(positionsData, &offset) != nil else { throw positionsDamaged(at: offset) }
        }
        let count = Int(freqs[slot])
        // Each position takes a byte at least: a damaged frequency must not size the buffer.
        guard count <= positionsData.count - offset else { throw positionsDamaged(at: offset) }
        if output.count > count {
            output.removeLast(output.count - count)
        } else if output.count < count {
            output.append(contentsOf: repeatElement(0, count: count - output.count))
        }
        let data = positionsData
        let complete = output.withUnsafeMutableBufferPointer { buffer in
            var position: Int32 = 0
            for index in 0..<count {
                guard let delta = Self.varint(data, &offset) else { return false }
                position = position &+ Int32(truncatingIfNeeded: delta)
                buffer[index] = position
            }
            return true
        }
        guard complete else { throw positionsDamaged(at: offset) }
        try positionsFile.check(positionsReadUpTo..<offset)
        // The next document's positions start here.
        positionsReadUpTo = offset
        positionsToSkip = -count
    }

    /// A variable-byte number at `offset`, which moves past it; nil past the end or when longer
    /// than five bytes.
    @inline(__always)
    private static func varint(_ data: UnsafeRawBufferPointer, _ offset: inout Int) -> UInt32? {
        var result: UInt32 = 0, shift: UInt32 = 0
        while offset < data.count, shift < 35 {
            let byte = data.load(fromByteOffset: offset, as: UInt8.self)
            offset += 1
            result |= UInt32(byte & 0x7F) &<< shift
            if byte < 0x80 { return result }
            shift += 7
        }
        return nil
    }

    private func positionsDamaged(at offset: Int) -> KidxError {
        .corruptIndex(file: positionsFile.name, reason: "positions run past the end or a number is too long at byte \(offset)")
    }
}
