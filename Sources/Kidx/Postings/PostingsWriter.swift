/// Encodes one posting list (documents, term frequencies, positions) of a field-term.
///
/// Postings stream, per list:
/// - when the list has full blocks, the skip table: a byte with its widths (`SkipLayout`: the
///   bytes of each number, and whether entries hold where blocks' positions end, which an
///   exact word reading its stem's list without positions must know), then one entry of those
///   widths per full block of 128 documents: its last document, the end of its bytes counted
///   from the first block's, in a list with positions the end of its positions counted from
///   the list's first, its maximum term frequency and minimum norm byte. Entries have one
///   width, so a cursor reads an entry where it stands without decoding the table;
/// - when the list has a tail and 16 documents or more (`storesTailSummary`), the tail's
///   maximum term frequency (variable-byte: most lists are a short tail alone) and minimum
///   norm byte, so block-max pruning bounds the tail too (a shorter list is bounded by
///   scoring its few documents when it is opened);
/// - the full blocks: document gaps and frequencies, each a patched `BitPacking` block (a
///   token byte, the values packed at one width, and up to 15 larger values patched in);
/// - the tail, the last `docFreq % 128` documents: from 4 documents on (`packsTail`) its gaps
///   and frequencies as two patched runs of that many values, below that variable-byte (per
///   document its gap shifted left by one, the low bit set when the frequency is 1, else the
///   frequency after it).
/// Positions stream, per document in list order, `freq` position gaps (the first from 0): a full
/// block's gaps, all its documents' together, as patched `BitPacking` runs of 128 and a
/// shorter last one; a packed tail's gaps the same way, after their length in bytes
/// (variable-byte); a variable-byte tail's gaps variable-byte. A full block's positions end
/// where its skip entry says and a packed tail's where its length says, which bounds what a
/// damaged frequency can make a reader decode; a variable-byte tail (three documents at most)
/// is bounded by one byte at least per gap.
struct PostingsWriter {
    /// A full block's skip entry before it is written (see `SkipLayout`).
    private struct SkipEntry {
        var lastDoc: UInt32, end: UInt32, positionsEnd: UInt32, maxFreq: UInt32, minNorm: UInt8
    }

    /// What a written list needs in the term dictionary.
    struct ListAddress {
        var docFreq: Int
        var postingsOffset: Int
        var positionsOffset: Int
        var hasPositions: Bool

        /// The list's dictionary entry.
        var termInfo: TermInfo {
            TermInfo(docFreq: docFreq, postingsOffset: postingsOffset, positionsOffset: hasPositions ? positionsOffset : 0, hasPositions: hasPositions)
        }
    }

    /// Whether a tail of `count` documents is bit-packed (else variable-byte): from 4 documents
    /// on. FANG's tails, as simulated on the lists of a build (before and after merging):
    /// variable-byte 22.70 MB of postings and 11.87 MB of positions; packed from 1, 2, 4, 8
    /// and 16 documents on 21.39 / 10.81, 20.28 / 10.37, 19.94 / 10.36, 19.90 / 10.47 and
    /// 20.09 / 10.65 MB: three documents' gaps and frequencies take about as many bytes
    /// either way, and fewer take more packed (two tokens, and the widths' rounding).
    static func packsTail(of count: Int) -> Bool { count >= 4 }

    /// Whether a list of `docFreq` documents stores its tail's summary (maximum frequency and
    /// minimum norm): from 16 documents on. Below, the two bytes are much of a list (of the
    /// 4.7 bytes a one-document list took, two): FANG's postings 29.94 → 28.83 MB without
    /// them, for 0.6 % more instructions per query (OR 409.7 k → 412.2 k, AND 493.2 k →
    /// 495.3 k) scoring such a list's documents to bound it (`TermScorer`).
    static func storesTailSummary(docFreq: Int) -> Bool { docFreq >= 16 }

    private var skips = ByteWriter()
    /// The full blocks' skip entries, written once the list's widths are known.
    private var entries: [SkipEntry] = []
    private var blocks = ByteWriter()
    private var positions = ByteWriter()
    private var gapBuffer = [UInt32](repeating: 0, count: BitPacking.blockSize)
    private var freqBuffer = [UInt32](repeating: 0, count: BitPacking.blockSize)
    /// The position gaps of the block being encoded.
    private var positionGaps: [UInt32] = []
    /// A packed tail's positions, before their length is written.
    private var tailRuns = ByteWriter()

    /// Lists encoded since `removeEncoded()`, back to back: lists are encoded on several
    /// threads, each with its own writer, and appended to the files in key order (see
    /// `ListEncoding`).
    private var encodedPostings = ByteWriter(), encodedPositions = ByteWriter()

    /// Where an encoded list's bytes are in its writer.
    struct EncodedList {
        var docFreq: Int
        var postings: Range<Int>
        var positions: Range<Int>
        var hasPositions: Bool
    }

    /// Encodes a list and appends it to the two streams: `encode` then `append`.
    mutating func write(
        docs: ArraySlice<Int32>, freqs: ArraySlice<UInt32>, positions flat: ArraySlice<Int32>,
        norms: (Int32) -> UInt8, withPositions: Bool = true,
        postings: IndexFileWriter, positionsFile: IndexFileWriter
    ) throws -> ListAddress {
        removeEncoded()
        let list = try encode(docs: docs, freqs: freqs, positions: flat, norms: norms, withPositions: withPositions)
        return try append(list, postings: postings, positionsFile: positionsFile)
    }

    /// Appends a list this writer encoded to the two streams and says where it went.
    func append(_ list: EncodedList, postings: IndexFileWriter, positionsFile: IndexFileWriter) throws -> ListAddress {
        let address = ListAddress(docFreq: list.docFreq, postingsOffset: postings.bodyOffset, positionsOffset: positionsFile.bodyOffset,
                                  hasPositions: list.hasPositions)
        try encodedPostings.bytes.withUnsafeBytes { try postings.write(UnsafeRawBufferPointer(rebasing: $0[list.postings])) }
        try encodedPositions.bytes.withUnsafeBytes { try positionsFile.write(UnsafeRawBufferPointer(rebasing: $0[list.positions])) }
        return address
    }

    /// Forgets the lists encoded so far (their buffers' capacity stays).
    mutating func removeEncoded() {
        encodedPostings.removeAll()
        encodedPositions.removeAll()
    }

    /// Encodes a list given as parallel arrays (documents ascending) and a flat array of
    /// positions (`freqs[i]` positions for document `i`, ascending) after the lists encoded
    /// before; positions only `withPositions` (lists that serve scoring alone leave them out).
    /// `norms` gives each document's norm byte in this field, for block-max data.
    mutating func encode(
        docs: ArraySlice<Int32>, freqs: ArraySlice<UInt32>, positions flat: ArraySlice<Int32>,
        norms: (Int32) -> UInt8, withPositions: Bool = true
    ) throws -> EncodedList {
        skips.removeAll()
        entries.removeAll(keepingCapacity: true)
        blocks.removeAll()
        positions.removeAll()

        var previousDoc: Int32 = -1
        var positionCursor = flat.startIndex
        let fullBlocks = docs.count / BitPacking.blockSize
        var index = docs.startIndex
        var freqIndex = freqs.startIndex

        func gatherPositions(count: UInt32) {
            guard withPositions else { return }
            var previous: Int32 = 0
            for _ in 0..<Int(count) {
                let position = flat[positionCursor]
                positionGaps.append(UInt32(position - previous))
                previous = position
                positionCursor += 1
            }
        }
        // Position gaps are mostly 8 to 11 bits (a word's first place in an article): packed,
        // FANG's positions take 1.7 MB (8 %) less than as variable-byte numbers.
        func writePositions(packing: Bool, to positions: inout ByteWriter) {
            if packing {
                positionGaps.withUnsafeBufferPointer { gaps in
                    for start in stride(from: 0, to: gaps.count, by: BitPacking.blockSize) {
                        BitPacking.appendPatched(UnsafeBufferPointer(rebasing: gaps[start..<min(start + BitPacking.blockSize, gaps.count)]), to: &positions)
                    }
                }
            } else {
                for gap in positionGaps { positions.appendVarint(UInt64(gap)) }
            }
            positionGaps.removeAll(keepingCapacity: true)
        }

        for _ in 0..<fullBlocks {
            var maxFreq: UInt32 = 0
            var minNorm = UInt8.max
            for slot in 0..<BitPacking.blockSize {
                let doc = docs[index]
                gapBuffer[slot] = UInt32(doc - previousDoc - 1)
                freqBuffer[slot] = freqs[freqIndex] - 1
                maxFreq = max(maxFreq, freqs[freqIndex])
                minNorm = min(minNorm, norms(doc))
                gatherPositions(count: freqs[freqIndex])
                previousDoc = doc
                index += 1
                freqIndex += 1
            }
            gapBuffer.withUnsafeBufferPointer { BitPacking.appendPatched($0, to: &blocks) }
            freqBuffer.withUnsafeBufferPointer { BitPacking.appendPatched($0, to: &blocks) }
            writePositions(packing: true, to: &positions)
            guard blocks.count <= UInt32.max, positions.count <= UInt32.max else {
                throw KidxError.io(path: IndexFormat.Kind.postings.fileName, reason: "a posting list over 4 GiB")
            }
            entries.append(SkipEntry(lastDoc: UInt32(previousDoc), end: UInt32(blocks.count), positionsEnd: UInt32(positions.count),
                                     maxFreq: maxFreq, minNorm: minNorm))
        }
        if let last = entries.last {
            let layout = SkipLayout(lastDoc: last.lastDoc, end: last.end, positionsEnd: withPositions ? last.positionsEnd : nil,
                                    maxFreq: entries.reduce(0) { max($0, $1.maxFreq) })
            skips.append(layout.byte)
            for entry in entries {
                layout.append(lastDoc: entry.lastDoc, end: entry.end, positionsEnd: entry.positionsEnd, maxFreq: entry.maxFreq, minNorm: entry.minNorm, to: &skips)
            }
        }
        var tailMaxFreq: UInt32 = 0
        var tailMinNorm = UInt8.max
        let tailCount = docs.endIndex - index, packedTail = Self.packsTail(of: tailCount)
        for slot in 0..<tailCount {
            let doc = docs[index]
            let freq = freqs[freqIndex]
            tailMaxFreq = max(tailMaxFreq, freq)
            tailMinNorm = min(tailMinNorm, norms(doc))
            let gap = doc - previousDoc - 1
            if packedTail {
                gapBuffer[slot] = UInt32(gap)
                freqBuffer[slot] = freq - 1
            } else if freq == 1 {
                blocks.appendVarint(UInt64(gap) << 1 | 1)
            } else {
                blocks.appendVarint(UInt64(gap) << 1)
                blocks.appendVarint(UInt64(freq))
            }
            gatherPositions(count: freq)
            previousDoc = doc
            index += 1
            freqIndex += 1
        }
        if packedTail {
            gapBuffer.withUnsafeBufferPointer { BitPacking.appendPatched(UnsafeBufferPointer(rebasing: $0[..<tailCount]), to: &blocks) }
            freqBuffer.withUnsafeBufferPointer { BitPacking.appendPatched(UnsafeBufferPointer(rebasing: $0[..<tailCount]), to: &blocks) }
            if withPositions {
                // Led by their length: a reader sizes its buffer by the frequencies, and a
                // damaged one must not make it decode past the tail's bytes.
                tailRuns.removeAll()
                writePositions(packing: true, to: &tailRuns)
                positions.appendVarint(UInt64(tailRuns.count))
                positions.append(contentsOf: tailRuns.bytes)
            }
        } else {
            writePositions(packing: false, to: &positions)
        }
        if tailMaxFreq > 0, Self.storesTailSummary(docFreq: docs.count) {
            skips.appendVarint(UInt64(tailMaxFreq))
            skips.append(tailMinNorm)
        }
        let postingsStart = encodedPostings.count, positionsStart = encodedPositions.count
        encodedPostings.append(contentsOf: skips.bytes)
        encodedPostings.append(contentsOf: blocks.bytes)
        encodedPositions.append(contentsOf: positions.bytes)
        return EncodedList(docFreq: docs.count, postings: postingsStart..<encodedPostings.count,
                           positions: positionsStart..<encodedPositions.count, hasPositions: withPositions)
    }
}
