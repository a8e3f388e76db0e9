import Foundation

/// Merges segments analyzed with one analysis dictionary into a single segment, list by list,
/// without analyzing their words again: the term dictionaries are walked side by side, each
/// key's lists are concatenated (document numbers shifted past the segments before, deleted
/// documents dropped) and encoded again with their block-max data, norms and document tables are
/// concatenated, and stored blocks are copied as they are when the stores share their zstd
/// dictionary.
///
/// Without deletions, the result is the segment one writer would have written from all the
/// documents: the same keys and lists, byte for byte (the memory-budget test compares them). A
/// build over its memory budget writes its parts this way into one segment, so a query reads one
/// list per key; an update merges small segments so.
///
/// Memory: one merged list at a time, the norms, and for every source an array of its stem
/// lists' offsets (an exact word that is its stem's only form shares the stem's list, and
/// keeps doing so only where it does in every source).
enum SegmentMerger {
    /// Writes the live documents of `sources`, in this order, as one new segment in `folder`
    /// (created; it must not exist). Deleted documents are dropped: their stored blocks are
    /// compressed again without them, and their field lengths, which BM25's average length
    /// counts until now, come from `fieldLengths` (the analyzer's count for a document, per
    /// field; the index keeps only quantized lengths). Returns the new segment's description.
    static func merge(_ sources: [SegmentReader], into folder: String, fieldLengths: (Document) -> [Int]) throws -> SegmentInfo {
        // Each source's new document numbers (nil: its own plus its base; -1: deleted).
        var bases: [Int32] = [], renumbering: [[Int32]?] = []
        var documentCount = 0
        for source in sources {
            bases.append(Int32(truncatingIfNeeded: documentCount))
            if let deletions = source.deletions {
                renumbering.append((0..<Int32(source.documentCount)).map { doc in
                    guard !deletions.contains(doc) else { return -1 }
                    documentCount += 1
                    return Int32(truncatingIfNeeded: documentCount - 1)
                })
            } else {
                renumbering.append(nil)
                documentCount += source.documentCount
            }
            guard documentCount < Int(Int32.max) else { throw KidxError.io(path: folder, reason: "\(documentCount) documents do not fit one segment") }
        }
        func isLive(_ source: Int, _ doc: Int) -> Bool { (renumbering[source]?[doc] ?? 0) >= 0 }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        func open(_ kind: IndexFormat.Kind) throws -> IndexFileWriter {
            try IndexFileWriter(path: folder + "/" + kind.fileName, kind: kind)
        }

        let norms = Field.allCases.map { field in
            sources.indices.flatMap { source in sources[source].norms(field).enumerated().filter { isLive(source, $0.offset) }.map(\.element) }
        }
        let normsFile = try open(.norms)
        for fieldNorms in norms { try normsFile.write(fieldNorms) }
        try normsFile.finish()

        let documentsFile = try open(.documents)
        for (index, source) in sources.enumerated() {
            if source.deletions == nil {
                let table = source.documentsFile.body
                try source.documentsFile.check(0..<table.count)
                try documentsFile.write(table)
            } else {
                var table = ByteWriter()
                for (doc, entry) in try source.documentTable().enumerated() where isLive(index, doc) {
                    SegmentWriter.appendTableEntry(id: entry.id, fingerprint: entry.fingerprint, to: &table)
                }
                try documentsFile.write(table.bytes)
            }
            source.documentsFile.releasePages()
        }
        try documentsFile.finish()

        var totalLengths = Field.allCases.map { field in sources.reduce(0) { $0 + ($1.info.fields[field.name]?.totalLength ?? 0) } }
        let storeFile = try open(.store)
        let store = try DocumentStoreWriter(file: storeFile, dictionary: .given(Array(sources.first?.store.dictionary ?? UnsafeRawBufferPointer(start: nil, count: 0))))
        for (index, source) in sources.enumerated() {
            if source.deletions == nil {
                try store.append(source.store)
            } else {
                try store.append(source.store) { doc, document in
                    guard !isLive(index, doc) else { return true }
                    for (field, length) in fieldLengths(document).enumerated() { totalLengths[field] -= length }
                    return false
                }
            }
            source.storeFile.releasePages()
        }
        try store.finish()
        try storeFile.finish()

        var lists = try ListMerge(sources: sources, bases: bases, renumbering: renumbering, norms: norms,
                                  termsFile: open(.terms), postingsFile: open(.postings), positionsFile: open(.positions))
        try lists.run()
        return try SegmentInfo.write(folder: folder, documentCount: documentCount, termCount: lists.termCount,
                                     postingCount: lists.postingCount, totalLengths: totalLengths)
    }

    /// The merge of the term dictionaries and their lists.
    private struct ListMerge {
        let sources: [SegmentReader]
        /// Each source's first document number in the merged segment, and where it has deleted
        /// documents, every document's new number (-1: dropped).
        let bases: [Int32]
        let renumbering: [[Int32]?]
        let norms: [[UInt8]]
        let termsFile: IndexFileWriter, postingsFile: IndexFileWriter, positionsFile: IndexFileWriter
        let dictionary: TermDictionaryWriter
        var writer = PostingsWriter()
        var entries: [TermDictionary.Entries]
        /// Whether each source's `entries` has a current entry.
        var hasEntry: [Bool]
        /// The list being merged.
        var docs: [Int32] = [], freqs: [UInt32] = [], positions: [Int32] = [], documentPositions: [Int32] = []
        /// Per source, the postings offsets of its stem lists (ascending, as written in key
        /// order) and the number of the merged stem list each went into.
        var stemOffsets: [[Int]], stemNumbers: [[Int32]]
        /// The merged stem lists: where each was written and from how many sources.
        var stems: [(info: TermInfo, sources: Int)] = []
        private(set) var postingCount = 0
        /// Keys merged, and postings and positions bytes written, when memory was last released.
        var keysSinceRelease = 0, writtenAtRelease = 0

        init(sources: [SegmentReader], bases: [Int32], renumbering: [[Int32]?], norms: [[UInt8]],
             termsFile: IndexFileWriter, postingsFile: IndexFileWriter, positionsFile: IndexFileWriter) throws {
            self.sources = sources
            self.bases = bases
            self.renumbering = renumbering
            self.norms = norms
            self.termsFile = termsFile
            self.postingsFile = postingsFile
            self.positionsFile = positionsFile
            dictionary = TermDictionaryWriter(file: termsFile)
            var entries = try sources.map { try TermDictionary.Entries($0.terms) }
            var hasEntry: [Bool] = []
            for index in entries.indices { hasEntry.append(try entries[index].next()) }
            self.entries = entries
            self.hasEntry = hasEntry
            stemOffsets = sources.map { _ in [] }
            stemNumbers = sources.map { _ in [] }
        }

        var termCount: Int { dictionary.termCount }

        /// What a key's first byte says about its list.
        private struct ListKind {
            /// The field whose norms bound its blocks.
            var field: Int
            /// Whether lists of this kind may have positions (a stem's list has none for a stop word).
            var withPositions: Bool
            var isStem = false, isExactWord = false

            init(space: UInt8, file: String) throws {
                if let index = Field.allCases.firstIndex(where: { $0.rawValue == space }) {
                    self.init(field: index, withPositions: true, isStem: true)
                } else if let index = Field.allCases.firstIndex(where: { $0.partSpace == space }) {
                    self.init(field: index, withPositions: false)
                } else if let index = Field.allCases.firstIndex(where: { $0.exactSpace == space }) {
                    self.init(field: index, withPositions: false, isExactWord: true)
                } else if space == Field.sourceSpace || space == Field.dateSpace {
                    self.init(field: Field.allCases.firstIndex(of: .body)!, withPositions: false)
                } else {
                    throw KidxError.corruptIndex(file: file, reason: "key of unknown kind \(space) in a segment")
                }
            }

            private init(field: Int, withPositions: Bool, isStem: Bool = false, isExactWord: Bool = false) {
                self.field = field
                self.withPositions = withPositions
                self.isStem = isStem
                self.isExactWord = isExactWord
            }
        }

        mutating func run() throws {
            while let first = entries.indices.filter({ hasEntry[$0] }).min(by: { ByteOrder.precedes(entries[$0].key, entries[$1].key) }) {
                let key = entries[first].key
                let holders = entries.indices.filter { hasEntry[$0] && entries[$0].key == key }
                guard !key.isEmpty else { throw KidxError.corruptIndex(file: IndexFormat.Kind.terms.fileName, reason: "empty key") }
                let kind = try ListKind(space: key[0], file: IndexFormat.Kind.terms.fileName)
                if kind.isExactWord, let stem = sharedStem(holders) {
                    try dictionary.add(key: key, info: stems[stem].info.withoutPositions)
                } else if let info = try writeList(holders, kind: kind) {
                    try dictionary.add(key: key, info: info)
                    if kind.isStem {
                        for source in holders {
                            stemOffsets[source].append(entries[source].info.postingsOffset)
                            stemNumbers[source].append(Int32(stems.count))
                        }
                        stems.append((info, holders.count))
                    }
                }
                for source in holders { hasEntry[source] = try entries[source].next() }
                releaseMemoryNowAndThen()
            }
            try dictionary.finish()
            try termsFile.finish()
            try postingsFile.finish()
            try positionsFile.finish()
        }

        /// The merged stem list an exact word's entries share, if they share one: in each source
        /// that has the word, its entry is a stem list's, the same merged stem's in all, and that
        /// stem is in no other source (else the word is no longer the stem's only form).
        private func sharedStem(_ holders: [Int]) -> Int? {
            var shared: Int32?
            for source in holders {
                let offsets = stemOffsets[source], offset = entries[source].info.postingsOffset
                var low = 0, high = offsets.count
                while low < high {
                    let middle = (low + high) / 2
                    if offsets[middle] < offset { low = middle + 1 } else { high = middle }
                }
                guard low < offsets.count, offsets[low] == offset, shared == nil || shared == stemNumbers[source][low] else { return nil }
                shared = stemNumbers[source][low]
            }
            guard let shared, stems[Int(shared)].sources == holders.count else { return nil }
            return Int(shared)
        }

        /// Concatenates the lists of the current key in `holders`, without deleted documents, and
        /// writes the result (nil: every document was deleted, nothing written).
        private mutating func writeList(_ holders: [Int], kind: ListKind) throws -> TermInfo? {
            docs.removeAll(keepingCapacity: true)
            freqs.removeAll(keepingCapacity: true)
            positions.removeAll(keepingCapacity: true)
            // A stop word's term has no positions in any segment (the same analysis made them all).
            let withPositions = kind.withPositions && holders.allSatisfy { entries[$0].info.hasPositions }
            for source in holders {
                var cursor = try sources[source].cursor(entries[source].info)
                let renumbered = renumbering[source]
                while try cursor.next() {
                    if let renumbered {
                        // A damaged list may name a document past the end.
                        guard Int(cursor.doc) < renumbered.count else { throw KidxError.corruptIndex(file: IndexFormat.Kind.postings.fileName, reason: "document \(cursor.doc) beyond the last document") }
                        guard renumbered[Int(cursor.doc)] >= 0 else { continue }
                        docs.append(renumbered[Int(cursor.doc)])
                    } else {
                        docs.append(cursor.doc + bases[source])
                    }
                    freqs.append(cursor.freq)
                    if withPositions {
                        try cursor.positions(into: &documentPositions)
                        positions.append(contentsOf: documentPositions)
                    }
                }
            }
            guard !docs.isEmpty else { return nil }
            let fieldNorms = norms[kind.field]
            let address = try writer.write(docs: docs[...], freqs: freqs[...], positions: positions[...], norms: { fieldNorms[Int($0)] },
                                           withPositions: withPositions, postings: postingsFile, positionsFile: positionsFile)
            postingCount += address.docFreq
            return address.termInfo
        }

        /// Every 4,096 keys or 8 MiB written, releases the pages of the sources read so far
        /// (their dictionaries and lists are read once, front to back, and would otherwise all
        /// stay resident) and the heap's freed memory (list buffers of every size come and go).
        private mutating func releaseMemoryNowAndThen() {
            keysSinceRelease += 1
            let written = postingsFile.bodyOffset + positionsFile.bodyOffset
            guard keysSinceRelease >= 4096 || written - writtenAtRelease > 8 << 20 else { return }
            keysSinceRelease = 0
            writtenAtRelease = written
            for source in sources {
                for file in [source.termsFile, source.postingsFile, source.positionsFile] { file.releasePages() }
            }
            IndexWriter.returnFreedMemory()
        }
    }
}
