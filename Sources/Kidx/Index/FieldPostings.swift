import CPrefetch

/// The in-memory postings of one field, by word as written (folded, not stemmed): each distinct
/// word is stemmed once at commit, and words that share a stem have their lists merged.
struct FieldPostings {
    /// One word's postings as they are added, in one byte stream: per document its gap from the
    /// previous document, then the gaps between its positions (the first from -1), each value
    /// variable-byte and shifted left by one, with the low bit set on documents.
    ///
    /// Arrays of documents, frequencies and positions took 4 bytes per position and 8 per
    /// document, and three arrays per word: a FANG build held so much that it wrote five parts
    /// and merged them. Decoded only to be written (`postings`).
    struct List {
        private var bytes = ByteWriter()
        private var lastDoc: Int32 = -1
        private var lastPosition: Int32 = -1
        /// Documents and positions added.
        private(set) var documentCount: Int32 = 0
        private(set) var positionCount: Int32 = 0

        /// Starts loading the stream's storage: its header (the count `add` reads first) and
        /// first bytes. Through the array's one reference, as a raw pointer: asking the array
        /// for its address or count would wait for the very line being prefetched.
        func prefetchStream() {
            kidx_prefetch(unsafeBitCast(bytes.bytes, to: UnsafeRawPointer.self))
        }

        /// Bytes the stream holds.
        var byteCount: Int { bytes.count }

        /// An empty list.
        init() {}

        /// Adds a use at `position` in `doc` (documents come in order); returns how many bytes
        /// it took, 0 when it was dropped: a use at or before the document's last position (a
        /// joined hyphenated word shares its first part's position).
        mutating func add(doc: Int32, position: Int32) -> Int {
            let start = bytes.count
            if doc != lastDoc {
                bytes.appendVarint(UInt64(Int64(doc) - Int64(lastDoc)) << 1 | 1)
                lastDoc = doc
                lastPosition = -1
                documentCount += 1
            } else if position <= lastPosition {
                return 0
            }
            bytes.appendVarint(UInt64(Int64(position) - Int64(lastPosition)) << 1)
            lastPosition = position
            positionCount += 1
            return bytes.count - start
        }

        /// Calls `body` with each value of the stream (shifted, flagged) in order; throws when
        /// it is malformed (a value cut off, or longer than 64 bits).
        private func forEachValue(_ body: (UInt64) -> Void) throws {
            try bytes.bytes.withUnsafeBytes { raw in
                var reader = ByteReader(raw, file: "postings in memory")
                while !reader.isAtEnd { body(try reader.readVarint()) }
            }
        }

        /// Appends the postings to `result`'s arrays. The arrays grow once by the counts the
        /// list keeps and are written through buffers: appended a value at a time, each value
        /// checked its array's uniqueness and capacity (a 3,000-article build in parts: 572 M
        /// instructions decoding, 316 M so, 165 M of them filling the grown arrays with zeros).
        func decode(appendingTo result: inout Postings) {
            let firstDoc = result.docs.count, firstPosition = result.positions.count
            result.docs.append(contentsOf: repeatElement(0, count: Int(documentCount)))
            result.freqs.append(contentsOf: repeatElement(0, count: Int(documentCount)))
            result.positions.append(contentsOf: repeatElement(0, count: Int(positionCount)))
            bytes.bytes.withUnsafeBytes { stream in
                result.docs.withUnsafeMutableBufferPointer { docs in
                    result.freqs.withUnsafeMutableBufferPointer { freqs in
                        result.positions.withUnsafeMutableBufferPointer { positions in
                            // Well formed, with exactly the counted documents and positions: made
                            // by `add` or checked by `init(spilled:)`. (The bounds are checked all
                            // the same: a buffer's are not in a release build.)
                            var offset = 0, docIndex = firstDoc - 1, positionIndex = firstPosition
                            var doc: Int32 = -1, position: Int32 = -1
                            while let value = ByteReader.varint64(stream, &offset) {
                                if value & 1 == 1 {
                                    doc &+= Int32(truncatingIfNeeded: value >> 1)
                                    docIndex += 1
                                    guard docIndex < docs.count else { return }
                                    docs[docIndex] = doc
                                    position = -1
                                } else {
                                    guard docIndex >= firstDoc, positionIndex < positions.count else { return }
                                    position &+= Int32(truncatingIfNeeded: value >> 1)
                                    positions[positionIndex] = position
                                    positionIndex += 1
                                    freqs[docIndex] += 1
                                }
                            }
                        }
                    }
                }
            }
        }

        /// Appends the list to a spill file: the stream's length and bytes.
        func spill(to out: inout ByteWriter) {
            out.appendVarint(bytes.count)
            out.append(contentsOf: bytes.bytes)
        }

        /// A list `spill(to:)` wrote; throws unless its stream is well formed (documents
        /// ascending, each with a position, positions ascending within one).
        init(spilled reader: inout ByteReader) throws {
            bytes.append(contentsOf: try reader.readBytes(try reader.readInt()))
            var wellFormed = true, doc: Int64 = -1, position: Int64 = -1, documentPositions = 1
            var documents: Int32 = 0, positions: Int32 = 0
            let complete = (try? forEachValue { value in
                let gap = Int64(truncatingIfNeeded: value >> 1)
                if value & 1 == 1 {
                    wellFormed = wellFormed && documentPositions > 0 && gap > 0 && doc + gap <= Int64(Int32.max)
                    doc += gap
                    position = -1
                    documentPositions = 0
                    documents += 1
                } else {
                    wellFormed = wellFormed && doc >= 0 && gap > 0 && position + gap <= Int64(Int32.max)
                    position += gap
                    documentPositions += 1
                    positions += 1
                }
            }) != nil
            guard complete, wellFormed, documentPositions > 0 else { throw reader.corrupt("postings of a spilled word malformed") }
            documentCount = documents
            positionCount = positions
            lastDoc = Int32(doc)
            lastPosition = Int32(position)
        }
    }

    /// A word's or term's postings decoded for writing: documents in order, each one's
    /// frequency, and the positions of all, document after document.
    struct Postings {
        var docs: [Int32] = []
        var freqs: [UInt32] = []
        var positions: [Int32] = []

        /// Empties the arrays, keeping their storage.
        mutating func removeAll() {
            docs.removeAll(keepingCapacity: true)
            freqs.removeAll(keepingCapacity: true)
            positions.removeAll(keepingCapacity: true)
        }

        /// Sorts the positions from `start` on (one document's, gathered from several lists)
        /// and drops repeats: one word's positions are distinct, but two words' lists may hold
        /// one place (a joined hyphenated word takes its first part's).
        fileprivate mutating func sortPositions(from start: Int) {
            positions[start...].sort()
            var kept = start
            for index in start..<positions.count where index == start || positions[index] != positions[kept - 1] {
                positions[kept] = positions[index]
                kept += 1
            }
            positions.removeLast(positions.count - kept)
        }
    }

    /// Makes one term's postings of the lists of its words (a stem's forms, the compounds that
    /// hold a part), in arrays kept from term to term: one per encoding thread.
    ///
    /// The lists are decoded one after the other into one set of arrays, then merged a document
    /// at a time through a heap of the lists' next documents. Merged pairwise, each list into
    /// arrays of its own and each pair into new ones, a term's postings took three allocations
    /// per list and per pair (a 3,000-article build in parts: 2.29 G of its 32.9 G
    /// instructions, with the frees).
    struct Union {
        /// The union made by the last `form`.
        private(set) var postings = Postings()
        /// The lists decoded one after the other; list `n`'s documents start at `listStarts[n]`.
        private var decoded = Postings()
        private var listStarts: [Int] = []
        /// Per list, where its next document and that document's positions are in `decoded`.
        private var nextDoc: [Int] = [], nextPosition: [Int] = []
        /// The lists' next documents, `doc << 32 | list`, as a binary min-heap.
        private var heap: [UInt64] = []

        init() {}

        /// Sets `postings` to the union of `count` lists (`list(n)` gives the `n`-th): documents
        /// in order, the positions of a document in several lists merged.
        mutating func form(count: Int, _ list: (Int) -> List) {
            postings.removeAll()
            guard count > 1 else {
                if count == 1 { list(0).decode(appendingTo: &postings) }
                return
            }
            decoded.removeAll()
            listStarts.removeAll(keepingCapacity: true)
            nextPosition.removeAll(keepingCapacity: true)
            for index in 0..<count {
                listStarts.append(decoded.docs.count)
                nextPosition.append(decoded.positions.count)
                list(index).decode(appendingTo: &decoded)
            }
            listStarts.append(decoded.docs.count)
            nextDoc = listStarts
            nextDoc.removeLast()
            heap.removeAll(keepingCapacity: true)
            for index in 0..<count where listStarts[index] < listStarts[index + 1] {
                heap.append(UInt64(decoded.docs[listStarts[index]]) << 32 | UInt64(index))
            }
            for start in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(start) }
            while let first = heap.first {
                let doc = Int32(first >> 32)
                let start = postings.positions.count
                var lists = 0
                // Every list at this document, each moved on to its next.
                while let top = heap.first, top >> 32 == UInt64(doc) {
                    let index = Int(top & 0xFFFF_FFFF)
                    let positions = nextPosition[index]..<(nextPosition[index] + Int(decoded.freqs[nextDoc[index]]))
                    postings.positions.append(contentsOf: decoded.positions[positions])
                    nextPosition[index] = positions.upperBound
                    nextDoc[index] += 1
                    if nextDoc[index] < listStarts[index + 1] {
                        heap[0] = UInt64(decoded.docs[nextDoc[index]]) << 32 | UInt64(index)
                    } else {
                        heap[0] = heap[heap.count - 1]
                        heap.removeLast()
                    }
                    siftDown(0)
                    lists += 1
                }
                if lists > 1 { postings.sortPositions(from: start) }
                postings.docs.append(doc)
                postings.freqs.append(UInt32(postings.positions.count - start))
            }
        }

        private mutating func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1
                guard left < heap.count else { return }
                let child = left + 1 < heap.count && heap[left + 1] < heap[left] ? left + 1 : left
                guard heap[child] < heap[parent] else { return }
                heap.swapAt(child, parent)
                parent = child
            }
        }
    }

    private var interner = WordInterner()
    private(set) var lists: [List] = []
    /// Uses of each word written with a capital, by word number: names are told by it.
    private var capitalized: [Int32] = []
    /// Bytes of all lists' streams, for the memory estimate.
    private var listBytes = 0

    /// About how many bytes the lists and words take, and what writing them will take on top:
    /// the streams with their arrays' growth slack, and per word its list, interned bytes and
    /// table entries and the strings, terms and splits a commit makes of it (measured against
    /// peak RSS on FANG).
    var estimatedBytes: Int { listBytes * 5 / 4 + lists.count * 300 }

    init() {}

    /// Adds a use of `word`, whose `WordInterner.tableHash` is `hash`.
    mutating func add(word: UnsafeBufferPointer<UInt8>, hash: UInt32, doc: Int32, position: Int32, capitalized isCapitalized: Bool) {
        let (id, isNew) = interner.intern(word, hash: hash)
        if isNew {
            lists.append(List())
            capitalized.append(0)
        }
        let bytes = lists[id].add(doc: doc, position: position)
        guard bytes > 0 else { return }
        listBytes += bytes
        if isCapitalized { capitalized[id] += 1 }
    }

    /// Starts loading what adding a word of `hash` reads, in three steps a few words apart, each
    /// reading what the one before brought in: the table slot (see `WordInterner.prefetch`),
    /// then the list's entry, capitalized count and the word's bounds, then the list's stream and
    /// the word's bytes. Each was a cache miss for most words of a large field. (A number the
    /// table holds always names a list: a word's list is added when it is interned.)
    func prefetch(_ ahead: AnalyzedDocument.FieldWords.Lookahead) {
        interner.prefetch(hash: ahead.far)
        if let id = interner.probableID(hash: ahead.middle) {
            lists.withUnsafeBufferPointer { kidx_prefetch($0.baseAddress! + id) }
            capitalized.withUnsafeBufferPointer { kidx_prefetch($0.baseAddress! + id) }
            interner.prefetchBounds(of: id)
        }
        if let id = interner.probableID(hash: ahead.near) {
            lists[id].prefetchStream()
            interner.prefetchBytes(of: id)
        }
    }

    /// Writes every word with its list and capitalized uses to `file` (see `SegmentWriter.spill`).
    func spill(to file: IndexFileWriter) throws {
        var out = ByteWriter()
        out.appendVarint(lists.count)
        for (id, list) in lists.enumerated() {
            out.appendString(interner.word(id))
            out.appendVarint(Int(capitalized[id]))
            list.spill(to: &out)
            if out.count >= 1 << 16 {
                try file.write(out.bytes)
                out.removeAll()
            }
        }
        try file.write(out.bytes)
    }

    /// The postings `spill(to:)` wrote, read back.
    init(spilled reader: inout ByteReader) throws {
        let count = try reader.readInt()
        // Each word takes three bytes at least: a damaged count must not allocate wildly.
        guard count <= (reader.base.count - reader.offset) / 3 else { throw reader.corrupt("word count \(count) does not fit") }
        lists.reserveCapacity(count)
        capitalized.reserveCapacity(count)
        for _ in 0..<count {
            var word = try reader.readString()
            let uses = try reader.readInt()
            let list = try List(spilled: &reader)
            guard word.withUTF8({ interner.intern($0).isNew }) else { throw reader.corrupt("word \(word) spilled twice") }
            listBytes += list.byteCount
            lists.append(list)
            capitalized.append(Int32(truncatingIfNeeded: uses))
        }
    }

    /// The distinct words as strings, by word number (`lists[n]` is word `n`'s list). Builds a
    /// string per word: a commit calls it once.
    func distinctWords() -> [String] { lists.indices.map(interner.word) }

    /// The word numbers in the byte order of the words.
    func wordsInByteOrder() -> [Int] { interner.idsInByteOrder() }

    /// Every distinct word of `fields` (whose `distinctWords()` are `words`) with its uses and
    /// capitalized uses, over all fields.
    static func wordUses(_ fields: [FieldPostings], words: [[String]]) -> [String: (uses: Int, capitalized: Int)] {
        var uses: [String: (uses: Int, capitalized: Int)] = [:]
        // Room for every word at once: a growing table is copied into one twice its size, both
        // held meanwhile (a one-part FANG build: 57 MiB for the words and their uses, 41 so).
        uses.reserveCapacity(words.reduce(0) { $0 + $1.count })
        for (field, fieldWords) in zip(fields, words) {
            for (id, word) in fieldWords.enumerated() {
                uses[word, default: (0, 0)].uses += Int(field.lists[id].positionCount)
                uses[word, default: (0, 0)].capitalized += Int(field.capitalized[id])
            }
        }
        return uses
    }
}

/// Words grouped by their index term: the distinct terms in byte order, each with the numbers of
/// the words that have it (a stem's forms, a compound part's spellings), held in flat arrays.
///
/// An array of terms and an array of word numbers per group, with the only-form entries below,
/// took 69 MiB on top of the lists when a one-part FANG build wrote its stems; 28 MiB so.
struct TermGroups {
    /// The terms' bytes; group `n` is term number `order[n]`.
    private let terms: WordInterner
    private let order: [Int32]
    /// Group `n`'s words are `words[starts[n]..<starts[n + 1]]`, in ascending order.
    private let starts: [Int32]
    private let words: [Int32]

    /// The groups of `words` by their terms, stemmed with `analyzers` (one thread each).
    init(words: [String], using analyzers: [GermanAnalyzer]) {
        var terms = WordInterner()
        var termOfWord = [Int32](repeating: 0, count: words.count)
        GermanAnalyzer.forEachTerm(ofWords: words, using: analyzers) { word, term in
            termOfWord[word] = Int32(terms.intern(term).id)
        }
        let order = terms.idsInByteOrder()
        var group = [Int32](repeating: 0, count: order.count)
        for (number, term) in order.enumerated() { group[term] = Int32(number) }
        // Counted, then placed: the words of a group stay in ascending order.
        var starts = [Int32](repeating: 0, count: order.count + 1)
        for term in termOfWord { starts[Int(group[Int(term)]) + 1] += 1 }
        for number in order.indices { starts[number + 1] += starts[number] }
        var next = starts
        var grouped = [Int32](repeating: 0, count: words.count)
        for (word, term) in termOfWord.enumerated() {
            let number = Int(group[Int(term)])
            grouped[Int(next[number])] = Int32(word)
            next[number] += 1
        }
        self.terms = terms
        self.order = order.map { Int32($0) }
        self.starts = starts
        self.words = grouped
    }

    /// How many distinct terms there are.
    var count: Int { order.count }

    /// The term of group `group`.
    func term(_ group: Int) -> [UInt8] { terms.bytes(Int(order[group])) }

    /// Calls `body` with the bytes of group `group`'s term, lent.
    func withTerm<Result>(_ group: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try terms.withBytes(Int(order[group]), body)
    }

    /// Calls `body` with the groups' bounds in the word numbers (`starts`, one more than there
    /// are groups) and the word numbers, as buffers: threads that read them retain nothing.
    func withWords<Result>(_ body: (_ starts: UnsafeBufferPointer<Int32>, _ words: UnsafeBufferPointer<Int32>) throws -> Result) rethrows -> Result {
        try starts.withUnsafeBufferPointer { starts in try words.withUnsafeBufferPointer { try body(starts, $0) } }
    }
}
