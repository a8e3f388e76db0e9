/// Reads one posting list document by document, decoding a block of 128 at a time and
/// skipping whole blocks with the skip table.
///
/// Starts before the first document: call `next()` or `advance(to:)` first. After the end,
/// `doc` is `PostingsCursor.exhausted`.
struct PostingsCursor {
    /// The `doc` of a cursor past its last document.
    static let exhausted = Int32.max

    let docFreq: Int
    /// Whether the list has positions (`positions(into:)` may be called).
    let hasPositions: Bool
    /// The files read, which verify each chunk's checksum the first time it is decoded.
    private let postingsFile: MappedIndexFile
    private let positionsFile: MappedIndexFile
    private let postings: UnsafeRawBufferPointer
    private let positionsData: UnsafeRawBufferPointer
    private let file: String
    /// The skip table, read in place.
    let skips: SkipTable
    /// Where the list's blocks and its positions start.
    private let dataStart: Int
    private let positionsStart: Int
    private var tailOffset = 0
    private var tailPositionsOffset = 0

    /// Decoded documents and frequencies of the current block, in memory `blockBuffers` owns.
    private let blockBuffers = BlockBuffers()
    private let docs: UnsafeMutableBufferPointer<Int32>
    private let freqs: UnsafeMutableBufferPointer<UInt32>
    private var blockIndex = -1
    private var blockCount = 0
    private var slot = -1
    private var readTail = false
    /// Whether the tail is bit-packed (`PostingsWriter.packsTail`), its positions with it.
    private let packedTail: Bool

    /// Position reading state. Moving through a block leaves it be: positions are decoded only
    /// when asked for (for a few candidates of a phrase or proximity query), and the ones to
    /// pass over are counted from the frequencies then. `positionsReadUpTo` is where the next
    /// undecoded bytes of the block's positions start, `positionsEnd` where a full block's
    /// positions end; `positionsSlot` is the document whose positions start at gap
    /// `positionsIndex` (in a full block) or at `positionsReadUpTo` (in the tail).
    private var positionsSlot = 0
    private var positionsIndex = 0
    private var positionsReadUpTo = 0
    private var positionsEnd = 0
    /// A full block's position gaps decoded so far (`decodedGaps` of them, in chunks of 128),
    /// out of `blockGaps` (-1: not counted yet).
    private var gaps: [UInt32] = []
    private var decodedGaps = 0
    private var blockGaps = -1

    private(set) var doc: Int32 = -1

    /// The current document's term frequency (stored, not computed: a scorer reads it through a
    /// class without copying the cursor).
    private(set) var freq: UInt32 = 0

    /// A cursor over the list that `info` addresses.
    init(_ info: TermInfo, postings postingsFile: MappedIndexFile, positions positionsFile: MappedIndexFile) throws {
        let docFreq = info.docFreq, postingsOffset = info.postingsOffset, positionsOffset = info.positionsOffset
        docs = blockBuffers.docs
        freqs = blockBuffers.freqs
        self.docFreq = docFreq
        self.hasPositions = info.hasPositions
        packedTail = PostingsWriter.packsTail(of: docFreq % BitPacking.blockSize)
        self.postingsFile = postingsFile
        self.positionsFile = positionsFile
        let postings = postingsFile.body, positions = positionsFile.body
        self.postings = postings
        self.positionsData = positions
        let file = postingsFile.name
        self.file = file
        let fullBlocks = docFreq / BitPacking.blockSize
        // A damaged count or offset must fail here, before anything is read through them.
        guard docFreq > 0, postingsOffset >= 0, positionsOffset >= 0, positionsOffset <= positions.count,
              postingsOffset < postings.count else {
            throw KidxError.corruptIndex(file: file, reason: "posting list address out of range")
        }
        // Whether the skip entries say where the blocks' positions end: as the list was
        // written, for an exact word may read its stem's list without positions.
        var tableStart = postingsOffset, layout: SkipLayout?
        if fullBlocks > 0 {
            try postingsFile.check(postingsOffset..<postingsOffset + 1)
            layout = SkipLayout(byte: postings[postingsOffset])
            guard let layout, layout.hasPositionEnds || !info.hasPositions else { throw KidxError.corruptIndex(file: file, reason: "posting list header damaged") }
            tableStart += 1
        }
        let skipTableSize = fullBlocks * (layout?.entrySize ?? 0)
        // The table's last entry may be read one byte past (`SkipLayout`).
        guard skipTableSize < postings.count - tableStart else {
            throw KidxError.corruptIndex(file: file, reason: "posting list address out of range")
        }
        var reader = ByteReader(postings, offset: tableStart + skipTableSize, file: file)
        // A tail whose summary is not stored bounds nothing (`TermScorer` scores its documents).
        var tail = SkipTable.BlockSummary(lastDoc: Self.exhausted - 1, maxFreq: .max, minNorm: 0)
        if docFreq % BitPacking.blockSize > 0, PostingsWriter.storesTailSummary(docFreq: docFreq) {
            tail.maxFreq = UInt32(truncatingIfNeeded: try reader.readVarint())
            tail.minNorm = try reader.readByte()
        }
        try postingsFile.check(postingsOffset..<reader.offset)
        skips = SkipTable(start: postings.baseAddress! + tableStart, docFreq: docFreq, layout: layout, tail: tail)
        dataStart = reader.offset
        positionsStart = positionsOffset
        tailOffset = dataStart
        tailPositionsOffset = positionsOffset
        if skips.fullBlocks > 0 {
            let last = try blockBounds(skips.fullBlocks - 1)
            tailOffset = last.postings.upperBound
            tailPositionsOffset = last.positions.upperBound
        }
    }

    /// Where full block `index` lies in the postings and the positions, checked against the files.
    private func blockBounds(_ index: Int) throws -> (postings: Range<Int>, positions: Range<Int>) {
        let start = index == 0 ? 0 : skips.blockEnd(index - 1), end = skips.blockEnd(index)
        let positionsStartOffset = index == 0 ? 0 : skips.positionsEnd(index - 1), positionsEnd = skips.positionsEnd(index)
        guard start <= end, dataStart + end <= postings.count, positionsStartOffset <= positionsEnd,
              positionsStart + positionsEnd <= positionsData.count,
              index == 0 || skips.lastDoc(ofBlock: index - 1) < skips.lastDoc(ofBlock: index) else {
            throw KidxError.corruptIndex(file: file, reason: "skip entry \(index) out of order or out of range")
        }
        return (dataStart + start..<dataStart + end, positionsStart + positionsStartOffset..<positionsStart + positionsEnd)
    }

    /// Moves to the next document. Returns false at the end.
    mutating func next() throws -> Bool {
        if doc == Self.exhausted { return false }
        if slot + 1 < blockCount {
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
        while candidate < skips.fullBlocks, skips.lastDoc(ofBlock: candidate) < target { candidate += 1 }
        if candidate > blockIndex {
            guard try loadBlock(candidate) else { return false }
        }
        // Then the documents of the block, compared in its decoded buffer. Moving one document
        // at a time through `next()` made this function 18 % of a FANG AND query's instructions.
        while doc < target {
            let found = Self.firstSlot(in: docs, from: slot + 1, count: blockCount, atLeast: target)
            let count = blockCount
            if found < count {
                slot = found
                doc = docs[found]
                freq = freqs[found]
                return true
            }
            guard try loadBlock(blockIndex + 1) else { return false }
        }
        return true
    }

    /// The first slot from `start` on (before `count`) whose document is at least `target`, or
    /// `count`. Galloping (1, 2, 4 … slots on), then halving what is left: a candidate is often
    /// the next document but one, and sometimes most of a block on, where comparing one slot
    /// after another took FANG OR queries 423.7 k instructions each, against 408.5 k (AND
    /// 507.9 k, 499.2 k; in time the two were within 1 % over 40 alternating runs).
    @inline(__always)
    private static func firstSlot(in docs: UnsafeMutableBufferPointer<Int32>, from start: Int, count: Int, atLeast target: Int32) -> Int {
        // Every slot before `low` holds less than `target`; `probe` holds at least it, or is past the end.
        var low = start, probe = start, step = 1
        while probe < count, docs[probe] < target {
            low = probe + 1
            probe = low + step
            step <<= 1
        }
        var high = min(probe, count)
        while low < high {
            let middle = (low + high) >> 1
            if docs[middle] < target { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Calls `body` with the documents from the current one through `last` and their
    /// frequencies, a decoded block's run at a time (ascending), then stops on the first
    /// document after `last` (or at the end). Reads the decoded blocks in place: moving through
    /// `next()` costs a call and its checks per document.
    @inline(__always)
    mutating func forEachRun(through last: Int32, _ body: (UnsafeBufferPointer<Int32>, UnsafeBufferPointer<UInt32>) throws -> Void) throws {
        while doc <= last {
            let start = slot, count = blockCount
            var end = start
            if docs[count - 1] <= last {
                end = count
            } else {
                while docs[end] <= last { end += 1 }
            }
            try body(UnsafeBufferPointer(rebasing: docs[start..<end]), UnsafeBufferPointer(rebasing: freqs[start..<end]))
            if end < count {
                slot = end
                doc = docs[end]
                freq = freqs[end]
                return
            }
            slot = count - 1
            guard try loadBlock(blockIndex + 1) else { return }
        }
    }

    /// Decodes block `index` (or the tail) and positions on its first document.
    private mutating func loadBlock(_ index: Int) throws -> Bool {
        var previous: Int32
        if index < skips.fullBlocks {
            previous = index == 0 ? -1 : skips.lastDoc(ofBlock: index - 1)
            let bounds = try blockBounds(index)
            let start = bounds.postings.lowerBound
            var offset = start
            let read = docs.withMemoryRebound(to: UInt32.self) { BitPacking.readPatched(postings, &offset, into: $0.baseAddress!) }
                && BitPacking.readPatched(postings, &offset, into: freqs.baseAddress!)
            guard read else { throw KidxError.corruptIndex(file: file, reason: "block \(index) is damaged at byte \(offset)") }
            try postingsFile.check(start..<offset)
            // Gaps to ids, and frequencies back from `freq - 1`.
            previous = Self.addGaps(docs.baseAddress!, after: previous)
            for slot in 0..<BitPacking.blockSize { freqs[slot] &+= 1 }
            // Damaged data shows as ids that do not ascend or overrun the skip table's last id.
            guard docs[0] >= 0, previous == skips.lastDoc(ofBlock: index), offset == bounds.postings.upperBound else {
                throw KidxError.corruptIndex(file: file, reason: "block \(index) does not match its skip entry")
            }
            blockCount = BitPacking.blockSize
            positionsReadUpTo = bounds.positions.lowerBound
            positionsEnd = bounds.positions.upperBound
        } else if index == skips.fullBlocks, !readTail, docFreq % BitPacking.blockSize > 0 {
            readTail = true
            previous = skips.fullBlocks == 0 ? -1 : skips.lastDoc(ofBlock: skips.fullBlocks - 1)
            var offset = tailOffset
            blockCount = docFreq % BitPacking.blockSize
            if packedTail {
                let count = blockCount
                let read = docs.withMemoryRebound(to: UInt32.self) { BitPacking.readPatched(postings, &offset, count: count, into: $0.baseAddress!) }
                    && BitPacking.readPatched(postings, &offset, count: count, into: freqs.baseAddress!)
                guard read else { throw KidxError.corruptIndex(file: file, reason: "a list's tail is damaged at byte \(offset)") }
                for slot in 0..<count {
                    let next = previous &+ docs[slot] &+ 1
                    guard next > previous else { throw KidxError.corruptIndex(file: file, reason: "document ids out of order") }
                    previous = next
                    docs[slot] = next
                    freqs[slot] &+= 1
                }
                // Where the tail's positions end is read when they are (`blockPositions`).
                positionsEnd = -1
            } else {
                // Read by the inlined decoder: a short tail's gaps are mostly two bytes or
                // more, which `ByteReader.readVarint()` reads in a call (an OR query 0.9 %
                // fewer instructions, an AND query 0.6 %).
                for slot in 0..<blockCount {
                    guard let code = ByteReader.varint64(postings, &offset) else { throw KidxError.corruptIndex(file: file, reason: "a list's tail is cut off") }
                    let next = previous &+ Int32(truncatingIfNeeded: code >> 1) &+ 1
                    guard next > previous else { throw KidxError.corruptIndex(file: file, reason: "document ids out of order") }
                    previous = next
                    docs[slot] = previous
                    if code & 1 == 1 {
                        freqs[slot] = 1
                    } else {
                        guard let freq = ByteReader.varint32(postings, &offset) else { throw KidxError.corruptIndex(file: file, reason: "a list's tail is cut off") }
                        freqs[slot] = freq
                    }
                }
            }
            try postingsFile.check(tailOffset..<offset)
            positionsReadUpTo = tailPositionsOffset
        } else {
            doc = Self.exhausted
            blockIndex = skips.fullBlocks + 1
            return false
        }
        blockIndex = index
        slot = 0
        positionsSlot = 0
        positionsIndex = 0
        decodedGaps = 0
        blockGaps = -1
        doc = docs[0]
        freq = freqs[0]
        guard doc >= 0 else { throw KidxError.corruptIndex(file: file, reason: "negative document id in a posting list") }
        return true
    }

    /// Turns a block's gaps (each id minus the one before, minus 1) into ids after `previous`,
    /// in place, and returns the last. Four at a time: each pair summed by adding the vector
    /// shifted by a lane within 64-bit halves (lanes are little-endian), then the first pair's
    /// sum added to the second pair, then the ids before: 10 instructions where one id after
    /// another took 18 (FANG OR queries: `loadBlock` 95.7 k → 76.4 k instructions per query,
    /// 563.4 k → 544.2 k in all; in user time the two were within this machine's noise).
    @inline(__always)
    private static func addGaps(_ values: UnsafeMutablePointer<Int32>, after previous: Int32) -> Int32 {
        let raw = UnsafeMutableRawPointer(values)
        let upperPair = SIMD4<Int32>(0, 0, -1, -1)
        var carry = SIMD4<Int32>(repeating: previous)
        for step in 0..<BitPacking.blockSize / 4 {
            var sums = raw.loadUnaligned(fromByteOffset: step * 16, as: SIMD4<Int32>.self) &+ 1
            sums &+= unsafeBitCast(unsafeBitCast(sums, to: SIMD2<UInt64>.self) &<< 32, to: SIMD4<Int32>.self)
            sums &+= SIMD4(repeating: sums[1]) & upperPair
            sums &+= carry
            raw.storeBytes(of: sums, toByteOffset: step * 16, as: SIMD4<Int32>.self)
            carry = SIMD4(repeating: sums[3])
        }
        return carry[0]
    }

    /// The positions of the current document, ascending. Only for a list that `hasPositions`.
    mutating func positions(into output: inout [Int32]) throws {
        precondition(hasPositions, "positions read from a list without them")
        if blockIndex < skips.fullBlocks || packedTail {
            try blockPositions(into: &output)
        } else {
            try tailPositions(into: &output)
        }
    }

    /// `positions(into:)` in a full block or a packed tail: its gaps are decoded up to the
    /// current document's last, 128 at a time, and summed into the caller's buffer.
    private mutating func blockPositions(into output: inout [Int32]) throws {
        if positionsEnd < 0 {
            // A packed tail's positions, led by their length.
            var offset = positionsReadUpTo
            guard let length = ByteReader.varint64(positionsData, &offset), length <= positionsData.count - offset else {
                throw positionsDamaged(at: offset)
            }
            try positionsFile.check(positionsReadUpTo..<offset)
            positionsReadUpTo = offset
            positionsEnd = offset + Int(length)
        }
        if blockGaps < 0 {
            var total = 0
            for slot in 0..<blockCount { total += Int(freqs[slot]) }
            // A run of up to 128 gaps takes a byte at least: a damaged frequency must not size
            // the buffer beyond what the block's bytes can hold.
            guard total <= BitPacking.blockSize * (positionsEnd - positionsReadUpTo) else { throw positionsDamaged(at: positionsReadUpTo) }
            blockGaps = total
            let rounded = (total + BitPacking.blockSize - 1) / BitPacking.blockSize * BitPacking.blockSize
            if gaps.count < rounded { gaps.append(contentsOf: repeatElement(0, count: rounded - gaps.count)) }
        }
        for earlier in positionsSlot..<slot { positionsIndex += Int(freqs[earlier]) }
        positionsSlot = slot
        let start = positionsIndex, count = Int(freqs[slot])
        // The block's bytes only: a damaged chunk cannot read into the next block's.
        let data = UnsafeRawBufferPointer(rebasing: positionsData[..<positionsEnd])
        var offset = positionsReadUpTo, decoded = decodedGaps
        let total = blockGaps
        let complete = gaps.withUnsafeMutableBufferPointer { gaps in
            while decoded < start + count {
                let run = min(total - decoded, BitPacking.blockSize)
                guard BitPacking.readPatched(data, &offset, count: run, into: gaps.baseAddress! + decoded) else { return false }
                decoded += run
            }
            return true
        }
        decodedGaps = decoded
        guard complete, decoded < total || offset == positionsEnd else { throw positionsDamaged(at: offset) }
        try positionsFile.check(positionsReadUpTo..<offset)
        positionsReadUpTo = offset
        resize(&output, to: count)
        output.withUnsafeMutableBufferPointer { buffer in
            gaps.withUnsafeBufferPointer { gaps in
                var position: Int32 = 0
                for index in 0..<count {
                    position = position &+ Int32(truncatingIfNeeded: gaps[start + index])
                    buffer[index] = position
                }
            }
        }
    }

    /// Sets `output`'s count, without clearing it: clearing and appending cost more than the
    /// decoding (this runs once per candidate document of a phrase or proximity query).
    private func resize(_ output: inout [Int32], to count: Int) {
        if output.count > count {
            output.removeLast(output.count - count)
        } else if output.count < count {
            output.append(contentsOf: repeatElement(0, count: count - output.count))
        }
    }

    /// `positions(into:)` in the tail.
    private mutating func tailPositions(into output: inout [Int32]) throws {
        // Variable-byte gaps decoded straight from the mapping into the caller's buffer: no
        // reader object per call.
        let skipStart = positionsReadUpTo
        var offset = skipStart
        var skipped = 0
        for earlier in positionsSlot..<slot { skipped += Int(freqs[earlier]) }
        guard Self.skipVarints(positionsData, &offset, count: skipped) else { throw positionsDamaged(at: offset) }
        // The current document's positions start here (read again from here if asked again).
        positionsReadUpTo = offset
        positionsSlot = slot
        let count = Int(freqs[slot])
        // Each position takes a byte at least: a damaged frequency must not size the buffer.
        guard count <= positionsData.count - offset else { throw positionsDamaged(at: offset) }
        resize(&output, to: count)
        let data = positionsData
        let complete = output.withUnsafeMutableBufferPointer { buffer in
            var position: Int32 = 0
            for index in 0..<count {
                guard let delta = ByteReader.varint32(data, &offset) else { return false }
                position = position &+ Int32(truncatingIfNeeded: delta)
                buffer[index] = position
            }
            return true
        }
        guard complete else { throw positionsDamaged(at: offset) }
        try positionsFile.check(skipStart..<offset)
    }

    /// Moves `offset` past `count` variable-byte numbers without decoding them: it counts their
    /// last bytes (high bit clear), eight bytes at a time (a frequent word's earlier documents
    /// in a block can hold hundreds of positions). False past the end.
    private static func skipVarints(_ data: UnsafeRawBufferPointer, _ offset: inout Int, count: Int) -> Bool {
        var remaining = count
        while remaining > 0 {
            if offset + 8 <= data.count {
                let ends = ~UInt64(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) & 0x8080_8080_8080_8080
                let found = ends.nonzeroBitCount
                if found < remaining {
                    remaining -= found
                    offset += 8
                    continue
                }
                // The last number ends at the `remaining`-th last byte of this word.
                var bits = ends
                for _ in 1..<remaining { bits &= bits - 1 }
                offset += bits.trailingZeroBitCount / 8 + 1
                return true
            }
            guard offset < data.count else { return false }
            if data[offset] < 0x80 { remaining -= 1 }
            offset += 1
        }
        return true
    }

    private func positionsDamaged(at offset: Int) -> KidxError {
        .corruptIndex(file: positionsFile.name, reason: "positions run past the end or a number is too long at byte \(offset)")
    }
}

/// A list's skip table read in place: one fixed-width entry per full block, then the tail's
/// summary. Plain pointers, no references: scorers copy it freely.
struct SkipTable {
    /// What block-max pruning knows of a block without decoding it.
    struct BlockSummary {
        /// Its last document (`PostingsCursor.exhausted - 1` for the tail, whose last is
        /// unknown before decoding).
        var lastDoc: Int32
        var maxFreq: UInt32
        var minNorm: UInt8
    }

    /// The first entry (in the mapped, checked postings body).
    private let start: UnsafeRawPointer
    /// Whether entries hold where the blocks' positions end.
    let withPositionEnds: Bool
    /// The bytes of an entry, and where its numbers start in it (see `SkipLayout`).
    private let entrySize: Int, endOffset: Int, positionsOffset: Int, frequencyOffset: Int, normOffset: Int
    /// The bits of each number in the four bytes (two for the frequency) read for it.
    private let documentMask: UInt32, endMask: UInt32, positionsMask: UInt32, frequencyMask: UInt16
    /// The stored frequency that stands for itself or more (65,535 in two bytes; none in one).
    private let saturatedFrequency: UInt32
    /// The number of full blocks of 128 documents.
    let fullBlocks: Int
    /// The number of summaries: the full blocks and the tail, if any.
    let summaryCount: Int
    /// The tail's summary (decoded when the cursor opens).
    private let tail: BlockSummary

    /// The table at `start` of a list of `docFreq` documents, its entries laid out as `layout`
    /// says (nil: the list has no full block).
    init(start: UnsafeRawPointer, docFreq: Int, layout: SkipLayout?, tail: BlockSummary) {
        self.start = start
        self.tail = tail
        let layout = layout ?? SkipLayout(lastDoc: 0, end: 0, positionsEnd: nil, maxFreq: 0)
        withPositionEnds = layout.hasPositionEnds
        entrySize = layout.entrySize
        endOffset = layout.endOffset
        positionsOffset = layout.positionsOffset
        frequencyOffset = layout.frequencyOffset
        normOffset = layout.normOffset
        func mask(_ bytes: Int) -> UInt32 { bytes >= 4 ? .max : (1 << UInt32(8 * bytes)) - 1 }
        documentMask = mask(layout.documentBytes)
        endMask = mask(layout.endBytes)
        positionsMask = mask(layout.positionBytes)
        frequencyMask = UInt16(truncatingIfNeeded: mask(layout.frequencyBytes))
        saturatedFrequency = layout.frequencyBytes == 2 ? UInt32(UInt16.max) : .max
        fullBlocks = docFreq / BitPacking.blockSize
        summaryCount = fullBlocks + (docFreq % BitPacking.blockSize > 0 ? 1 : 0)
    }

    /// The four bytes at `offset` in entry `index`, masked to a number's own.
    @inline(__always)
    private func number(_ index: Int, at offset: Int, mask: UInt32) -> UInt32 {
        UInt32(littleEndian: start.loadUnaligned(fromByteOffset: index * entrySize + offset, as: UInt32.self)) & mask
    }

    /// The last document of full block `index`.
    @inline(__always)
    func lastDoc(ofBlock index: Int) -> Int32 {
        Int32(bitPattern: number(index, at: 0, mask: documentMask))
    }

    /// Where full block `index` ends, in bytes from the list's first block.
    @inline(__always)
    func blockEnd(_ index: Int) -> Int {
        Int(number(index, at: endOffset, mask: endMask))
    }

    /// Where full block `index`'s positions end, in bytes from the list's first position (0
    /// without `withPositionEnds`).
    @inline(__always)
    func positionsEnd(_ index: Int) -> Int {
        guard withPositionEnds else { return 0 }
        return Int(number(index, at: positionsOffset, mask: positionsMask))
    }

    /// The summary of block `index`: a full block, or the tail at `fullBlocks`.
    func summary(ofBlock index: Int) -> BlockSummary {
        guard index < fullBlocks else { return tail }
        let entry = start + index * entrySize
        let maxFreq = UInt32(UInt16(littleEndian: entry.loadUnaligned(fromByteOffset: frequencyOffset, as: UInt16.self)) & frequencyMask)
        return BlockSummary(lastDoc: lastDoc(ofBlock: index),
                            maxFreq: maxFreq == saturatedFrequency ? .max : maxFreq,
                            minNorm: entry.load(fromByteOffset: normOffset, as: UInt8.self))
    }
}

/// A cursor's block buffers: 128 documents and 128 frequencies in memory of their own, freed
/// with the object.
///
/// Two arrays per cursor cost more than the rest of opening it: a new array of a value type goes
/// through the runtime's generic metadata cache (`_allocateBufferUninitialized`, a locked table),
/// about 730 instructions each (a one-word OR query on FANG: 408.8 k instructions with the
/// arrays, 400.9 k without). A copy of a cursor shares its buffers, so a copy must be read to
/// its end, or dropped, before the original moves again (as `TermScorer.addScores` does: the
/// original has not read a block yet). Both buffers are one allocation: a query opens a cursor
/// per list (FANG queries: OR 689 k → 684 k instructions each, AND 664 k → 661 k, against an
/// allocation per buffer).
private final class BlockBuffers {
    private let memory: UnsafeMutableRawPointer
    let docs: UnsafeMutableBufferPointer<Int32>
    let freqs: UnsafeMutableBufferPointer<UInt32>

    init() {
        let count = BitPacking.blockSize
        memory = UnsafeMutableRawPointer.allocate(byteCount: count * (MemoryLayout<Int32>.stride + MemoryLayout<UInt32>.stride),
                                                  alignment: MemoryLayout<UInt32>.alignment)
        docs = UnsafeMutableBufferPointer(start: memory.initializeMemory(as: Int32.self, repeating: 0, count: count), count: count)
        freqs = UnsafeMutableBufferPointer(start: (memory + count * MemoryLayout<Int32>.stride).initializeMemory(as: UInt32.self, repeating: 0, count: count),
                                           count: count)
    }

    deinit {
        memory.deallocate()
    }
}
