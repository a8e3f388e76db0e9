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
/// Memory: a merged list per thread, three batches of encoded lists (`ListEncoding`), the norms, and
/// for every source an array of its stem lists' offsets (an exact word that is its stem's only
/// form shares the stem's list, and keeps doing so only where it does in every source).
enum SegmentMerger {
    /// Writes the live documents of `sources`, in this order, as one new segment in `folder`
    /// (created; it must not exist). Deleted documents are dropped: their stored blocks are
    /// compressed again without them, and their field lengths, which BM25's average length
    /// counts until now, come from `fieldLengths` (the analyzer's count for a document, per
    /// field; the index keeps only quantized lengths). Returns the new segment's description.
    static func merge(_ sources: [SegmentReader], into folder: String, threads: Int, fieldLengths: @escaping (Document) -> [Int]) throws -> SegmentInfo {
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
        let renumbered = renumbering  // a constant, for the thread that writes the documents
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)

        let norms = Field.allCases.map { field in
            sources.indices.flatMap { source in sources[source].norms(field).enumerated().filter { isLive(renumbered, source, $0.offset) }.map(\.element) }
        }
        // The norms, document tables and stored documents are written on a thread of their own
        // while the lists are merged: copying and syncing them left the other core idle.
        let copied = DispatchGroup(), documents = DocumentsWritten()
        DispatchQueue.global().async(group: copied) {
            documents.totalLengths = Result {
                try writeDocuments(of: sources, renumbering: renumbered, norms: norms, into: folder, fieldLengths: fieldLengths)
            }
        }
        let lists: ListMerge
        do {
            defer { copied.wait() }
            var merge = try ListMerge(sources: sources, bases: bases, renumbering: renumbered, norms: norms, threads: threads,
                                      termsFile: IndexFileWriter(in: folder, kind: .terms), postingsFile: IndexFileWriter(in: folder, kind: .postings),
                                      positionsFile: IndexFileWriter(in: folder, kind: .positions))
            try merge.run()
            lists = merge
        }
        return try SegmentInfo.write(folder: folder, documentCount: documentCount, termCount: lists.termCount,
                                     postingCount: lists.postingCount, totalLengths: documents.totalLengths.get())
    }

    /// Writes the merged segment's norms, document table and stored documents; returns its
    /// total field lengths.
    private static func writeDocuments(of sources: [SegmentReader], renumbering: [[Int32]?], norms: [[UInt8]], into folder: String,
                                       fieldLengths: (Document) -> [Int]) throws -> [Int] {
        let normsFile = try IndexFileWriter(in: folder, kind: .norms)
        for fieldNorms in norms { try normsFile.write(fieldNorms) }
        try normsFile.finish()

        let documentsFile = try IndexFileWriter(in: folder, kind: .documents)
        for (index, source) in sources.enumerated() {
            if source.deletions == nil {
                let table = source.documentsFile.body
                try source.documentsFile.check(0..<table.count)
                try documentsFile.write(table)
            } else {
                var table = ByteWriter()
                for (doc, entry) in try source.documentTable().enumerated() where isLive(renumbering, index, doc) {
                    SegmentWriter.appendTableEntry(id: entry.id, fingerprint: entry.fingerprint, to: &table)
                }
                try documentsFile.write(table.bytes)
            }
            source.documentsFile.releasePages()
        }
        try documentsFile.finish()

        var totalLengths = Field.allCases.map { field in sources.reduce(0) { $0 + ($1.info.fields[field.name]?.totalLength ?? 0) } }
        let storeFile = try IndexFileWriter(in: folder, kind: .store)
        let store = try DocumentStoreWriter(file: storeFile, dictionary: .given(Array(sources.first?.store.dictionary ?? UnsafeRawBufferPointer(start: nil, count: 0))))
        for (index, source) in sources.enumerated() {
            if source.deletions == nil {
                try store.append(source.store)
            } else {
                try store.append(source.store) { doc, document in
                    guard !isLive(renumbering, index, doc) else { return true }
                    for (field, length) in fieldLengths(document).enumerated() { totalLengths[field] -= length }
                    return false
                }
            }
            source.storeFile.releasePages()
        }
        try store.finish()
        try storeFile.finish()
        return totalLengths
    }

    /// Whether document `doc` of source `source` is kept, by the sources' `renumbering` (see
    /// `merge`).
    private static func isLive(_ renumbering: [[Int32]?], _ source: Int, _ doc: Int) -> Bool { (renumbering[source]?[doc] ?? 0) >= 0 }

    /// What `writeDocuments` returned on its thread: set there before the thread's group is
    /// left, read after the group is waited for.
    private final class DocumentsWritten: @unchecked Sendable {
        var totalLengths: Result<[Int], Error> = .success([])
    }

    /// The merge of the term dictionaries and their lists.
    ///
    /// Keys are taken in order a batch at a time; a batch's lists are read and encoded on
    /// `threads` threads (`ListEncoding`) and written here in key order, while the next
    /// batch's keys are gathered. Each thread reads the
    /// sources through mappings of its own and the norms through buffers: a file object or an
    /// array that two threads retain and release for every list has its count bounced between
    /// their cores.
    private struct ListMerge {
        let sources: [SegmentReader]
        /// Each source's first document number in the merged segment, and where it has deleted
        /// documents, every document's new number (-1: dropped).
        let bases: [Int32]
        let renumbering: [[Int32]?]
        let norms: [[UInt8]]
        let threads: Int
        let termsFile: IndexFileWriter, postingsFile: IndexFileWriter, positionsFile: IndexFileWriter
        let dictionary: TermDictionaryWriter
        var entries: [TermDictionary.Entries]
        /// Whether each source's `entries` has a current entry.
        var hasEntry: [Bool]
        /// Per source, the postings offsets of its stem lists (ascending, in key order) and the
        /// number of the merged stem list each goes into: known when the keys are gathered, so
        /// that an exact word's key can be gathered while its stem's list is still being encoded.
        var stemOffsets: [[Int]], stemNumbers: [[Int32]]
        /// Per merged stem list, from how many sources it is merged.
        var stemSources: [Int] = []
        /// Per merged stem list, where it was written (nil: every document was deleted).
        var stemInfos: [TermInfo?] = []
        private(set) var postingCount = 0
        /// Keys merged, and postings and positions bytes written, when memory was last released.
        var keysSinceRelease = 0, writtenAtRelease = 0

        /// The keys of a batch, gathered before their lists are encoded, in flat arrays (a few
        /// arrays per key made the gathering, on one thread, the merge's bottleneck): each key's
        /// bytes and kind, the sources that have it with their entries, and for an exact word
        /// that is its stem's only form everywhere, the merged stem it shares (-1: none).
        private struct Batch {
            var keyBytes: [UInt8] = [], keyEnds: [Int] = []
            var kinds: [ListKind] = []
            var holderSources: [Int] = [], holderInfos: [TermInfo] = [], holderEnds: [Int] = []
            var sharedStems: [Int] = []
            /// The documents of its keys' lists.
            var totalDocuments = 0

            var count: Int { kinds.count }

            func key(_ item: Int) -> ArraySlice<UInt8> { keyBytes[(item == 0 ? 0 : keyEnds[item - 1])..<keyEnds[item]] }
            func holders(_ item: Int) -> Range<Int> { (item == 0 ? 0 : holderEnds[item - 1])..<holderEnds[item] }

            /// Adds a key held by sources `holders`, whose entries `info` gives.
            mutating func append(key: [UInt8], kind: ListKind, holders: [Int], info: (Int) -> TermInfo, sharedStem: Int?) {
                keyBytes.append(contentsOf: key)
                keyEnds.append(keyBytes.count)
                kinds.append(kind)
                for source in holders {
                    let entry = info(source)
                    holderSources.append(source)
                    holderInfos.append(entry)
                    totalDocuments += entry.docFreq
                }
                holderEnds.append(holderSources.count)
                sharedStems.append(sharedStem ?? -1)
            }

            mutating func removeAll() {
                keyBytes.removeAll(keepingCapacity: true)
                keyEnds.removeAll(keepingCapacity: true)
                kinds.removeAll(keepingCapacity: true)
                holderSources.removeAll(keepingCapacity: true)
                holderInfos.removeAll(keepingCapacity: true)
                holderEnds.removeAll(keepingCapacity: true)
                sharedStems.removeAll(keepingCapacity: true)
                totalDocuments = 0
            }
        }

        /// What one thread reads with: every source's postings and positions, mapped for it
        /// (the first thread's are the sources' own), and the list being merged, kept from
        /// list to list.
        private final class Reading {
            let files: [(postings: MappedIndexFile, positions: MappedIndexFile)]
            var docs: [Int32] = [], freqs: [UInt32] = [], positions: [Int32] = [], documentPositions: [Int32] = []

            init(_ files: [(postings: MappedIndexFile, positions: MappedIndexFile)]) { self.files = files }
        }

        init(sources: [SegmentReader], bases: [Int32], renumbering: [[Int32]?], norms: [[UInt8]], threads: Int,
             termsFile: IndexFileWriter, postingsFile: IndexFileWriter, positionsFile: IndexFileWriter) throws {
            self.sources = sources
            self.bases = bases
            self.renumbering = renumbering
            self.norms = norms
            self.threads = max(1, threads)
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
            let readings = try (0..<threads).map { thread in
                try Reading(sources.map { source in
                    thread == 0 ? (source.postingsFile, source.positionsFile)
                        : (try MappedIndexFile(path: source.folder + "/" + IndexFormat.Kind.postings.fileName, kind: .postings),
                           try MappedIndexFile(path: source.folder + "/" + IndexFormat.Kind.positions.fileName, kind: .positions))
                })
            }
            func copy<Element>(_ array: [Element]) -> UnsafeBufferPointer<Element> {
                let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: array.count)
                _ = buffer.initialize(from: array)
                return UnsafeBufferPointer(buffer)
            }
            let normBuffers = norms.map(copy)
            let renumberingBuffers = renumbering.map { $0.map(copy) }
            defer {
                for buffer in normBuffers { buffer.deallocate() }
                for buffer in renumberingBuffers { buffer?.deallocate() }
            }
            // A batch per slot of the pipeline: some are gathered (here) while another's lists are
            // encoded (on the threads).
            let batches = UnsafeMutablePointer<Batch>.allocate(capacity: ListEncoding.slots)
            batches.initialize(repeating: Batch(), count: ListEncoding.slots)
            defer {
                batches.deinitialize(count: ListEncoding.slots)
                batches.deallocate()
            }
            let limit = ListEncoding.BatchLimit()
            var holders: [Int] = []
            let bases = bases
            try ListEncoding.run(threads: threads,
                                 nextBatch: { slot in
                                     // The slot's last batch is written by now.
                                     releaseMemoryNowAndThen(keys: batches[slot].count, readings: readings)
                                     batches[slot].removeAll()
                                     try gather(into: &batches[slot], limit: limit, holders: &holders)
                                     return batches[slot].count
                                 },
                                 encode: { slot, item, thread, writer in
                                     guard batches[slot].sharedStems[item] < 0 else { return nil }
                                     return try Self.encode(item, of: batches[slot], reading: readings[thread], bases: bases, norms: normBuffers,
                                                            renumbering: renumberingBuffers, with: &writer)
                                 },
                                 write: { slot, item, list, writer in try write(item, of: batches[slot], list: list, with: &writer) })
            try dictionary.finish()
            try termsFile.finish()
            try postingsFile.finish()
            try positionsFile.finish()
        }

        /// Gathers the next keys in order into `batch`, up to `limit`. Stems are numbered here,
        /// so that an exact word's key, gathered after every stem's, finds the stem it shares
        /// (`sharedStem`) while that stem's list may still wait to be encoded.
        private mutating func gather(into batch: inout Batch, limit: ListEncoding.BatchLimit, holders: inout [Int]) throws {
            while batch.totalDocuments < limit.documents, batch.count < limit.lists {
                var first = -1
                for index in entries.indices where hasEntry[index] {
                    if first < 0 || ByteOrder.precedes(entries[index].key, entries[first].key) { first = index }
                }
                guard first >= 0 else { return }
                guard let space = entries[first].key.first else { throw KidxError.corruptIndex(file: IndexFormat.Kind.terms.fileName, reason: "empty key") }
                holders.removeAll(keepingCapacity: true)
                for index in entries.indices where hasEntry[index] && (index == first || entries[index].key == entries[first].key) {
                    holders.append(index)
                }
                let kind = try ListKind(space: space, file: IndexFormat.Kind.terms.fileName)
                if kind.isStem {
                    for source in holders {
                        stemOffsets[source].append(entries[source].info.postingsOffset)
                        stemNumbers[source].append(Int32(stemSources.count))
                    }
                    stemSources.append(holders.count)
                }
                batch.append(key: entries[first].key, kind: kind, holders: holders, info: { entries[$0].info },
                             sharedStem: kind.isExactWord ? sharedStem(holders) : nil)
                for source in holders { hasEntry[source] = try entries[source].next() }
            }
        }

        /// Writes item `item` of `batch`, encoded as `list` (nil: nothing to write), and its
        /// dictionary entry.
        private mutating func write(_ item: Int, of batch: Batch, list: PostingsWriter.EncodedList?, with writer: inout PostingsWriter) throws {
            if batch.sharedStems[item] >= 0 {
                // Every document deleted from the stem's list is deleted from the word's: nothing written.
                guard let info = stemInfos[batch.sharedStems[item]] else { return }
                try batch.key(item).withUnsafeBytes { try dictionary.add(key: $0, info: info.withoutPositions) }
                return
            }
            var info: TermInfo?
            if let list {
                let written = try writer.append(list, postings: postingsFile, positionsFile: positionsFile).termInfo
                info = written
                postingCount += list.docFreq
                try batch.key(item).withUnsafeBytes { try dictionary.add(key: $0, info: written) }
            }
            // Stems are written in the order they were numbered when gathered.
            if batch.kinds[item].isStem { stemInfos.append(info) }
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
            guard let shared, stemSources[Int(shared)] == holders.count else { return nil }
            return Int(shared)
        }

        /// Concatenates the lists of key `item` of the batch, without deleted documents, and
        /// encodes the result with `writer` (nil: every document was deleted).
        private static func encode(_ item: Int, of batch: Batch, reading: Reading, bases: [Int32], norms: [UnsafeBufferPointer<UInt8>],
                                   renumbering: [UnsafeBufferPointer<Int32>?], with writer: inout PostingsWriter) throws -> PostingsWriter.EncodedList? {
            reading.docs.removeAll(keepingCapacity: true)
            reading.freqs.removeAll(keepingCapacity: true)
            reading.positions.removeAll(keepingCapacity: true)
            let holders = batch.holders(item), kind = batch.kinds[item]
            // A stop word's term has no positions in any segment (the same analysis made them all).
            let withPositions = kind.withPositions && holders.allSatisfy { batch.holderInfos[$0].hasPositions }
            for holder in holders {
                let source = batch.holderSources[holder]
                let files = reading.files[source]
                var cursor = try PostingsCursor(batch.holderInfos[holder], postings: files.postings, positions: files.positions)
                let renumbered = renumbering[source]
                while try cursor.next() {
                    if let renumbered {
                        // A damaged list may name a document past the end.
                        guard Int(cursor.doc) < renumbered.count else { throw KidxError.corruptIndex(file: IndexFormat.Kind.postings.fileName, reason: "document \(cursor.doc) beyond the last document") }
                        guard renumbered[Int(cursor.doc)] >= 0 else { continue }
                        reading.docs.append(renumbered[Int(cursor.doc)])
                    } else {
                        reading.docs.append(cursor.doc + bases[source])
                    }
                    reading.freqs.append(cursor.freq)
                    if withPositions {
                        try cursor.positions(into: &reading.documentPositions)
                        reading.positions.append(contentsOf: reading.documentPositions)
                    }
                }
            }
            guard !reading.docs.isEmpty else { return nil }
            let fieldNorms = norms[kind.field]
            return try writer.encode(docs: reading.docs[...], freqs: reading.freqs[...], positions: reading.positions[...],
                                     norms: { fieldNorms[Int($0)] }, withPositions: withPositions)
        }

        /// Every 4,096 keys or 8 MiB written, releases the pages of the sources read so far
        /// (their dictionaries and lists are read once, front to back, and would otherwise all
        /// stay resident) and the heap's freed memory (list buffers of every size come and go).
        private mutating func releaseMemoryNowAndThen(keys: Int, readings: [Reading]) {
            keysSinceRelease += keys
            let written = postingsFile.bodyOffset + positionsFile.bodyOffset
            guard keysSinceRelease >= 4096 || written - writtenAtRelease > 8 << 20 else { return }
            keysSinceRelease = 0
            writtenAtRelease = written
            for source in sources { source.termsFile.releasePages() }
            for reading in readings {
                for files in reading.files {
                    files.postings.releasePages()
                    files.positions.releasePages()
                }
            }
            IndexWriter.returnFreedMemory()
        }
    }
}
