import Foundation
import Synchronization

/// Writes one segment: analyzes documents into in-memory postings and, on `finish()`, writes
/// the segment's files into its folder.
///
/// The analysis evidence (compound lexicon, proper names) is either gathered from the segment's
/// own documents, for a new index or one analyzed afresh, and written as the index's
/// `analysis.kdx`; or taken from the index, so that a segment added later reads words exactly
/// as the others do.
final class SegmentWriter {
    /// Where the compound lexicon and the names come from.
    enum Analysis {
        /// Gathered from this segment's documents and written to `analysis.kdx` at this path.
        case gathered(path: String)
        /// The index's own; with `splits`, every word of this segment split already (by the
        /// build whose parts this segment is one of), else split here.
        case shared(AnalysisDictionary, splits: Decompounding? = nil)
    }

    let folder: String
    let options: AnalyzerOptions
    let threads: Int
    private let analyzer: GermanAnalyzer
    /// One analyzer per analyzing thread (ICU and Snowball state is not shared).
    private let workerAnalyzers: [GermanAnalyzer]
    private var fields: [FieldPostings] = Field.allCases.map { _ in FieldPostings() }
    /// Documents go to the store as they are added, so the writer does not hold their text;
    /// nil once a spill has handed them on.
    private var storage: Storage?
    private var norms: [[UInt8]] = Field.allCases.map { _ in [] }
    private var totalLengths: [Int] = Field.allCases.map { _ in 0 }
    /// Documents by outlet and by publication day, for filters and sorting by date.
    private var sources: [String: [Int32]] = [:]
    private var days: [String: [Int32]] = [:]

    /// Documents whose postings are added: all but the batch in flight.
    private var postedCount = 0

    /// Documents added so far.
    var documentCount: Int { postedCount + (inFlight?.documents.count ?? 0) }

    /// A writer for a new segment in `folder` (created; it must not exist), whose store trains
    /// its own dictionary or uses the one given, and compresses its blocks on `compression`'s
    /// thread if given (see `DocumentStoreWriter`), else as they are added.
    init(folder: String, options: AnalyzerOptions, threads: Int, storeDictionary: DocumentStoreWriter.DictionarySource = .trained,
         compression: BackgroundCompression? = nil) throws {
        self.folder = folder
        self.options = options
        self.threads = max(1, threads)
        analyzer = GermanAnalyzer(options: options)
        workerAnalyzers = (0..<max(1, threads)).map { _ in GermanAnalyzer(options: options) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        storage = try Storage(folder: folder, dictionary: storeDictionary, compression: compression)
    }

    /// A segment's stored documents and document table (each document's id and content
    /// fingerprint, in document order), written as documents are added. A spilled part hands
    /// them on to the writer that finishes it, so that its store may still be compressing.
    final class Storage {
        private let storeFile: IndexFileWriter
        private let store: DocumentStoreWriter
        private let documentsFile: IndexFileWriter

        fileprivate init(folder: String, dictionary: DocumentStoreWriter.DictionarySource, compression: BackgroundCompression?) throws {
            let path = folder + "/" + IndexFormat.Kind.store.fileName
            storeFile = try IndexFileWriter(path: path, kind: .store)
            store = try DocumentStoreWriter(file: storeFile, dictionary: dictionary, background: compression.map { ($0, spool: path + ".spool") })
            documentsFile = try IndexFileWriter(in: folder, kind: .documents)
        }

        /// Adds documents to the store and the document table.
        fileprivate func store(_ documents: [Document]) throws {
            var table = ByteWriter()
            for document in documents {
                try store.add(document)
                SegmentWriter.appendTableEntry(id: document.id, fingerprint: document.fingerprint, to: &table)
            }
            try documentsFile.write(table.bytes)
        }

        /// The store's zstd dictionary (empty: none), no more documents to come (the parts of
        /// one build share the first part's, so that they merge by copying their blocks).
        func dictionary() throws -> [UInt8] {
            try store.endDocuments()
            return store.dictionaryBytes!
        }

        /// Finishes the files, waiting for the store's compression (`syncing`: as
        /// `IndexFileWriter.finish(syncing:)`).
        fileprivate func finish(syncing: Bool) throws {
            try store.finish()
            try storeFile.finish(syncing: syncing)
            try documentsFile.finish(syncing: syncing)
        }
    }

    /// Analyzes documents on `threads` threads and adds them in order.
    ///
    /// With more than one thread the batch is analyzed and stored in the background while this
    /// thread adds the previous batch's postings (and the caller reads the next batch): the
    /// postings are added in document order on one thread, so without the overlap the other
    /// threads waited for it (a FANG build used 1.1 of 2 cores). `drain()` adds the last one.
    func add(contentsOf documents: [Document]) throws {
        guard let storage else { preconditionFailure("documents added to a spilled segment") }
        let workers = min(threads, documents.count)
        guard workers > 1 else {
            let analyzed = documents.map { AnalyzedDocument($0, analyzer: analyzer) }
            try storage.store(documents)
            addPostings(of: documents, analyzed: analyzed)
            return
        }
        let previous = try waitForBatchInFlight()
        inFlight = BatchInFlight(documents, storage: storage, analyzers: workerAnalyzers.prefix(workers))
        if let previous { addPostings(of: previous.documents, analyzed: previous.analyzed) }
    }

    /// Documents being analyzed and stored on other threads (see `add(contentsOf:)`).
    ///
    /// The batch is analyzed in slices that threads take in turn: one thread per analyzer but
    /// the first, and the calling thread with the first once it has added the previous batch's
    /// postings and waits for this one: as many threads analyze as there are analyzers. (With
    /// a thread per analyzer beside the calling thread, three ran on two cores. FANG on two
    /// threads, five alternating runs each: 13.7 to 17.0 s, mean 15.6, before; 14.2 to 15.7 s,
    /// mean 15.0, after.)
    private final class BatchInFlight {
        let documents: [Document]
        /// The batch's slices, each analyzed by whichever thread takes it.
        private let slices: [Slice]
        /// The next slice to take.
        private let nextSlice = Atomic<Int>(0)
        /// The calling thread's analyzer (`wait()`).
        private let waitingAnalyzer: GermanAnalyzer
        private var storeError: Error?
        private let group = DispatchGroup()

        /// Documents a slice holds: small enough that the threads finish a batch together.
        private static let sliceSize = 16

        private final class Slice {
            let range: Range<Int>
            var analyzed: [AnalyzedDocument] = []
            init(_ range: Range<Int>) { self.range = range }
        }

        /// Starts analyzing `documents` on a thread per analyzer but the first (which `wait()`
        /// analyzes with) and storing them on another.
        init(_ documents: [Document], storage: Storage, analyzers: ArraySlice<GermanAnalyzer>) {
            self.documents = documents
            waitingAnalyzer = analyzers.first!
            slices = stride(from: 0, to: documents.count, by: Self.sliceSize).map { Slice($0..<min($0 + Self.sliceSize, documents.count)) }
            for analyzer in analyzers.dropFirst() {
                DispatchQueue.global().async(group: group) { [self] in analyzeSlices(with: analyzer) }
            }
            DispatchQueue.global().async(group: group) { [self] in
                do { try storage.store(documents) } catch { storeError = error }
            }
        }

        /// Analyzes slices not yet taken until none is left.
        private func analyzeSlices(with analyzer: GermanAnalyzer) {
            while true {
                let index = nextSlice.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < slices.count else { return }
                let slice = slices[index]
                slice.analyzed = documents[slice.range].map { AnalyzedDocument($0, analyzer: analyzer) }
            }
        }

        /// The analyzed documents, in order, once every slice is analyzed (the calling thread
        /// taking those left) and the batch stored; throws a store error.
        func wait() throws -> [AnalyzedDocument] {
            analyzeSlices(with: waitingAnalyzer)
            group.wait()
            if let storeError { throw storeError }
            return slices.flatMap(\.analyzed)
        }
    }

    private var inFlight: BatchInFlight?

    /// Waits for the batch in flight, if any, and hands it over with its analysis.
    private func waitForBatchInFlight() throws -> (documents: [Document], analyzed: [AnalyzedDocument])? {
        guard let batch = inFlight else { return nil }
        inFlight = nil
        return (batch.documents, try batch.wait())
    }

    /// Adds the postings of the batch in flight: before anything reads the postings or the store.
    private func drain() throws {
        if let batch = try waitForBatchInFlight() { addPostings(of: batch.documents, analyzed: batch.analyzed) }
    }

    deinit {
        _ = try? waitForBatchInFlight()  // its threads hold the store
    }

    /// Adds analyzed documents' words to the postings, numbered after those added before.
    private func addPostings(of documents: [Document], analyzed: [AnalyzedDocument]) {
        for field in fields.indices {
            // Taken out of the writer for the batch, so that adding a word mutates a local value,
            // not the writer's array through the class for every word.
            var postings = fields[field]
            fields[field] = FieldPostings()
            for (offset, analyzed) in analyzed.enumerated() {
                let words = analyzed.fields[field], doc = Int32(postedCount + offset)
                words.forEach { word, hash, position, capitalized, ahead in
                    postings.prefetch(ahead)
                    postings.add(word: word, hash: hash, doc: doc, position: position, capitalized: capitalized)
                }
                norms[field].append(FieldNorms.encode(words.length))
                totalLengths[field] += words.length
            }
            fields[field] = postings
        }
        for document in documents {
            let doc = Int32(postedCount)
            if let source = document.source.map(Field.normalizedSource), !source.isEmpty { sources[source, default: []].append(doc) }
            if let day = document.date.flatMap(Field.day) { days[day, default: []].append(doc) }
            postedCount += 1
        }
    }

    /// Appends a document's entry in the document table (`documents.kdx`, read by
    /// `SegmentReader.documentTable()`).
    static func appendTableEntry(id: String, fingerprint: UInt64, to table: inout ByteWriter) {
        table.appendString(id)
        table.appendUInt64(fingerprint)
    }

    /// About how many bytes the segment's postings take in memory (see `FieldPostings`).
    var estimatedBytes: Int { fields.reduce(0) { $0 + $1.estimatedBytes } }

    /// Every distinct word added with its uses and capitalized uses.
    private func wordUses() -> [String: (uses: Int, capitalized: Int)] {
        FieldPostings.wordUses(fields, words: fields.map { $0.distinctWords() })
    }

    private func finishStorage(syncing: Bool = true) throws {
        try storage?.finish(syncing: syncing)
        storage = nil
    }

    /// Finishes only the stored documents and drops the postings, for documents to be analyzed
    /// again from the store.
    func finishStoreOnly() throws {
        try drain()
        fields = Field.allCases.map { _ in FieldPostings() }
        try finishStorage()
    }

    /// Writes the analyzed words to a spill file in the folder and drops them from memory: a
    /// part of a new index too large for the memory budget waits so for the evidence of all
    /// parts (`init(resuming:storage:…)` reads it back). Analysis up to the words does not
    /// depend on the evidence, so no part is analyzed twice. Returns the part's word uses, the
    /// evidence it contributes, and its stored documents, which may still be compressing: the
    /// writer that finishes the part finishes them.
    func spill() throws -> (uses: [String: (uses: Int, capitalized: Int)], storage: Storage?) {
        try drain()
        let uses = wordUses()
        let file = try IndexFileWriter(in: folder, kind: .spill)
        var out = ByteWriter()
        out.appendVarint(documentCount)
        for index in fields.indices {
            out.appendVarint(totalLengths[index])
            out.append(contentsOf: norms[index])
            try file.write(out.bytes)
            out.removeAll()
            try fields[index].spill(to: file)
        }
        Self.appendDocumentLists(sources, to: &out)
        Self.appendDocumentLists(days, to: &out)
        try file.write(out.bytes)
        try file.finish(syncing: false)  // read back by this process, or removed with the generation
        fields = Field.allCases.map { _ in FieldPostings() }
        norms = Field.allCases.map { _ in [] }
        sources = [:]
        days = [:]
        defer { storage = nil }
        return (uses, storage)
    }

    /// A writer of the segment `spill()` left in `folder`, its words read back and its stored
    /// documents (`storage`, as `spill()` returned it) taken on, to be finished with
    /// `finish(analysis:)`.
    init(resuming folder: String, storage: Storage?, options: AnalyzerOptions, threads: Int) throws {
        self.folder = folder
        self.storage = storage
        self.options = options
        self.threads = max(1, threads)
        analyzer = GermanAnalyzer(options: options)
        workerAnalyzers = []
        let file = try MappedIndexFile(path: folder + "/" + IndexFormat.Kind.spill.fileName, kind: .spill)
        try file.check(0..<file.body.count)
        var reader = ByteReader(file.body, file: file.name)
        postedCount = try reader.readInt()
        for index in fields.indices {
            totalLengths[index] = try reader.readInt()
            norms[index] = Array(try reader.readBytes(postedCount))
            fields[index] = try FieldPostings(spilled: &reader)
        }
        sources = try Self.readDocumentLists(&reader)
        days = try Self.readDocumentLists(&reader)
        guard reader.isAtEnd else { throw reader.corrupt("spill file longer than its contents") }
    }

    /// Appends documents by outlet or by day: their count, then each name and its documents.
    private static func appendDocumentLists(_ lists: [String: [Int32]], to out: inout ByteWriter) {
        out.appendVarint(lists.count)
        for (name, docs) in lists {
            out.appendString(name)
            appendDocs(docs, to: &out)
        }
    }

    /// Appends ascending document numbers: their count, then gaps.
    private static func appendDocs(_ docs: [Int32], to out: inout ByteWriter) {
        out.appendVarint(docs.count)
        var previous: Int32 = -1
        for doc in docs {
            out.appendVarint(Int(doc - previous))
            previous = doc
        }
    }

    /// Document numbers `appendDocs` wrote; throws unless they ascend.
    private static func readDocs(_ reader: inout ByteReader) throws -> [Int32] {
        let count = try reader.readInt()
        guard count <= reader.base.count - reader.offset else { throw reader.corrupt("document count \(count) does not fit") }
        var docs: [Int32] = []
        docs.reserveCapacity(count)
        var previous: Int32 = -1
        for _ in 0..<count {
            let gap = try reader.readInt()
            guard gap > 0, gap <= Int(Int32.max) - Int(previous) else { throw reader.corrupt("document numbers out of order") }
            previous += Int32(gap)
            docs.append(previous)
        }
        return docs
    }

    /// Documents by outlet or by day as `appendDocumentLists` wrote them.
    private static func readDocumentLists(_ reader: inout ByteReader) throws -> [String: [Int32]] {
        var lists: [String: [Int32]] = [:]
        for _ in 0..<(try reader.readInt()) {
            let name = try reader.readString()
            lists[name] = try readDocs(&reader)
        }
        return lists
    }

    /// The index's analysis evidence gathered from the uses of every word of a corpus: the
    /// decompounding (lexicon, and the splits of these words, for the segments of these very
    /// words) and the proper names.
    static func gatherEvidence(uses: [String: (uses: Int, capitalized: Int)], documents: Int, options: AnalyzerOptions,
                               analyzer: GermanAnalyzer, threads: Int) -> (decompounding: Decompounding, names: ProperNames, info: AnalysisInfo) {
        let systemWords = options.decompounding || options.protectNames ? SystemWordList.load(folding: analyzer) : nil
        let decompounding = Decompounding(uses: uses, systemWords: systemWords, enabled: options.decompounding, threads: threads)
        // Names are known once compounds are: a compound of known words is no name.
        let names = options.protectNames && options.stemming
            ? ProperNames(words: uses, systemWords: systemWords, compounds: { decompounding.compounds(among: $0) }, stem: analyzer.term(ofWord:))
            : ProperNames()
        let info = AnalysisInfo(documents: documents, lexiconWords: decompounding.lexicon.count, names: names.entries.count,
                                wordList: decompounding.wordList, partThresholds: decompounding.thresholds)
        return (decompounding, names, info)
    }

    /// Writes the segment's files and `segment.json` (and, with gathered analysis, the index's
    /// analysis dictionary). Returns the segment's description and, when gathered, the analysis'.
    /// Words are turned into terms only here: analysis up to now does not depend on the evidence.
    /// `syncing` false leaves the files unsynced, for a part that a merge reads and removes
    /// before the index is published.
    func finish(analysis: Analysis, syncing: Bool = true) throws -> (segment: SegmentInfo, analysis: AnalysisInfo?) {
        try drain()
        let termsFile = try IndexFileWriter(in: folder, kind: .terms), postingsFile = try IndexFileWriter(in: folder, kind: .postings)
        let positionsFile = try IndexFileWriter(in: folder, kind: .positions)
        let dictionary = TermDictionaryWriter(file: termsFile)
        var postingsWriter = PostingsWriter()
        var postingCount = 0
        // Each field's distinct words as strings, by word number: made once, read by every step.
        let words = fields.map { $0.distinctWords() }
        var decompounding: Decompounding
        var analysisInfo: AnalysisInfo?
        // A name lookup for each analyzer that takes terms (a lookup remembers its answers).
        let nameLookup: () -> (([UInt8]) -> [UInt8]?)?
        switch analysis {
        case .gathered(let path):
            let (gathered, names, info) = Self.gatherEvidence(uses: FieldPostings.wordUses(fields, words: words), documents: documentCount, options: options,
                                                              analyzer: analyzer, threads: threads)
            decompounding = gathered
            nameLookup = { names.term(of:) }
            try AnalysisDictionary.write(lexicon: decompounding.lexicon, names: names.entries, to: path)
            analysisInfo = info
        case .shared(let dictionary, let splits):
            nameLookup = { dictionary.nameLookup(remembering: false) }
            if let splits {
                decompounding = splits
            } else {
                decompounding = options.decompounding
                    ? Decompounding(words: Set(words.joined()), decompounder: try dictionary.decompounderReadingMemory(), threads: threads)
                    : Decompounding()
            }
        }
        // Terms are taken only from here on, so stems, parts and queries all see the names.
        let termAnalyzers = [analyzer] + (1..<threads).map { _ in GermanAnalyzer(options: options) }
        for termAnalyzer in termAnalyzers { termAnalyzer.nameTerm = nameLookup() }
        decompounding.gatherParts(fields: fields, words: words, termAnalyzers: termAnalyzers)

        // Lists are encoded on every thread, a batch at a time, and written here in key order.
        // The threads read the lists, terms and norms through buffers, not arrays: an array read
        // on both threads is retained and released by both for every list, and that contention
        // took a quarter of the time when merging parts was tried the same way.
        let normBuffers = norms.map { fieldNorms in
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: fieldNorms.count)
            _ = buffer.initialize(from: fieldNorms)
            return UnsafeBufferPointer(buffer)
        }
        defer { for buffer in normBuffers { buffer.deallocate() } }
        // Each encoding thread's arrays for a term's postings (a buffer: the threads write it).
        let unions = UnsafeMutableBufferPointer<FieldPostings.Union>.allocate(capacity: threads)
        _ = unions.initialize(from: (0..<threads).map { _ in FieldPostings.Union() })
        defer {
            _ = unions.deinitialize()
            unions.deallocate()
        }
        func encode(_ list: FieldPostings.Postings, field: Int, withPositions: Bool, with writer: inout PostingsWriter) throws -> PostingsWriter.EncodedList {
            let norms = normBuffers[field]
            return try writer.encode(docs: list.docs[...], freqs: list.freqs[...], positions: list.positions[...],
                                     norms: { norms[Int($0)] }, withPositions: withPositions)
        }
        func write(_ list: PostingsWriter.EncodedList, of writer: PostingsWriter, key: UnsafeRawBufferPointer) throws -> TermInfo {
            let info = try writer.append(list, postings: postingsFile, positionsFile: positionsFile).termInfo
            try dictionary.add(key: key, info: info)
            postingCount += list.docFreq
            return info
        }
        // Every key is made in this one buffer and lent to the dictionary, which copies what it
        // keeps: an array or two per key, and their freeing, cost a build as much as `add` did.
        var keyBuffer: [UInt8] = []
        func withKey<Rest: Sequence<UInt8>, Result>(_ space: UInt8, _ rest: Rest, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
            keyBuffer.removeAll(keepingCapacity: true)
            keyBuffer.append(space)
            keyBuffer.append(contentsOf: rest)
            return try keyBuffer.withUnsafeBytes(body)
        }
        // Key order: stems of each field, compound parts of each field, exact words of each field,
        // outlets, days.
        // A word that is its stem's only form has the stem's list: its exact entry points there
        // (`onlyForms`: per word its index in `onlyFormLists`, -1 for none; an optional entry per
        // word takes 32 bytes, 17 MB for FANG's 540,000 words).
        var onlyForms: [[Int32]] = words.map { [Int32](repeating: -1, count: $0.count) }
        var onlyFormLists: [TermInfo] = []
        let stopWordTerms = analyzer.stopWordTerms()
        // Stop words are short: a longer term is not looked up (nor made into an array).
        let longestStopWordTerm = stopWordTerms.map(\.count).max() ?? 0
        for (index, field) in Field.allCases.enumerated() {
            let groups = TermGroups(words: words[index], using: termAnalyzers)
            let withPositions = (0..<groups.count).map { group in
                groups.withTerm(group) { $0.count > longestStopWordTerm || !stopWordTerms.contains(Array($0)) }
            }
            try groups.withWords { starts, groupWords in
                try fields[index].lists.withUnsafeBufferPointer { lists in
                    func forms(_ item: Int) -> UnsafeBufferPointer<Int32> { UnsafeBufferPointer(rebasing: groupWords[Int(starts[item])..<Int(starts[item + 1])]) }
                    try ListEncoding.run(threads: threads, count: groups.count, documents: { forms($0).reduce(0) { $0 + Int(lists[Int($1)].documentCount) } },
                                         encode: { item, worker, writer in
                                             // Merged one term at a time: all merged lists at once would double the memory.
                                             let forms = forms(item)
                                             unions[worker].form(count: forms.count) { lists[Int(forms[$0])] }
                                             return try encode(unions[worker].postings, field: index, withPositions: withPositions[item], with: &writer)
                                         },
                                         write: { item, list, writer in
                                             let info = try groups.withTerm(item) { term in
                                                 try withKey(field.rawValue, term) { try write(list!, of: writer, key: $0) }
                                             }
                                             guard forms(item).count == 1 else { return }
                                             onlyForms[index][Int(forms(item)[0])] = Int32(onlyFormLists.count)
                                             onlyFormLists.append(info)
                                         })
                }
            }
        }
        for (index, field) in Field.allCases.enumerated() {
            try decompounding.partLists(field: index).withUnsafeBufferPointer { parts in
                try ListEncoding.run(threads: threads, count: parts.count, documents: { parts[$0].lists.reduce(0) { $0 + Int($1.documentCount) } },
                                     encode: { item, worker, writer in
                                         let lists = parts[item].lists
                                         unions[worker].form(count: lists.count) { lists[$0] }
                                         return try encode(unions[worker].postings, field: index, withPositions: false, with: &writer)
                                     },
                                     write: { item, list, writer in
                                         _ = try withKey(field.partSpace, parts[item].term) { try write(list!, of: writer, key: $0) }
                                     })
            }
        }
        for (index, field) in Field.allCases.enumerated() {
            let ids = fields[index].wordsInByteOrder()
            try ids.withUnsafeBufferPointer { ids in
                try fields[index].lists.withUnsafeBufferPointer { lists in
                    try onlyForms[index].withUnsafeBufferPointer { shared in
                        try ListEncoding.run(threads: threads, count: ids.count, documents: { shared[ids[$0]] < 0 ? Int(lists[ids[$0]].documentCount) : 0 },
                                             encode: { item, worker, writer in
                                                 guard shared[ids[item]] < 0 else { return nil }
                                                 unions[worker].form(count: 1) { _ in lists[ids[item]] }
                                                 return try encode(unions[worker].postings, field: index, withPositions: false, with: &writer)
                                             },
                                             write: { item, list, writer in
                                                 try withKey(field.exactSpace, words[index][ids[item]].utf8) { key in
                                                     if let list {
                                                         _ = try write(list, of: writer, key: key)
                                                     } else {
                                                         try dictionary.add(key: key, info: onlyFormLists[Int(shared[ids[item]])].withoutPositions)
                                                     }
                                                 }
                                             })
                    }
                }
            }
        }
        for (space, lists) in [(Field.sourceSpace, sources), (Field.dateSpace, days)] {
            for (name, docs) in lists.sorted(by: { ByteOrder.precedes($0.key, $1.key) }) {
                let list = FieldPostings.Postings(docs: docs, freqs: Array(repeating: 1, count: docs.count), positions: [])
                postingsWriter.removeEncoded()
                let encoded = try encode(list, field: Field.allCases.firstIndex(of: .body)!, withPositions: false, with: &postingsWriter)
                _ = try withKey(space, name.utf8) { try write(encoded, of: postingsWriter, key: $0) }
            }
        }
        try dictionary.finish()
        try termsFile.finish(syncing: syncing)
        try postingsFile.finish(syncing: syncing)
        try positionsFile.finish(syncing: syncing)

        let normsFile = try IndexFileWriter(in: folder, kind: .norms)
        for fieldNorms in norms { try normsFile.write(fieldNorms) }
        try normsFile.finish(syncing: syncing)

        if case .shared(let dictionary, _) = analysis { try dictionary.checkUndamaged() }  // names were looked up in it
        try finishStorage(syncing: syncing)
        try? FileManager.default.removeItem(atPath: folder + "/" + IndexFormat.Kind.spill.fileName)

        let info = try SegmentInfo.write(folder: folder, documentCount: documentCount, termCount: dictionary.termCount,
                                         postingCount: postingCount, totalLengths: totalLengths)
        return (info, analysisInfo)
    }
}

extension Document {
    /// A 64-bit FNV-1a hash of everything stored: an update re-indexes a document only when
    /// it changes. The bytes are read through `withUTF8`: through the `utf8` view, a byte took
    /// eight times the instructions (1.7 % of a build's).
    var fingerprint: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for var field in [title, body, date ?? "", url ?? "", source ?? ""] {
            field.withUTF8 { bytes in
                for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            }
            hash = (hash ^ 0xFF) &* 0x100_0000_01b3  // field separator: no UTF-8 byte is 0xFF
        }
        return hash
    }
}

/// A document's words as the analyzer reads them, per field, before they reach the postings:
/// what analysis threads hand to the writer.
struct AnalyzedDocument {
    /// The words of one field: their bytes one after the other, with positions and capitals.
    struct FieldWords {
        private var bytes: [UInt8] = []
        private var ends: [Int32] = []
        private var positions: [Int32] = []
        private var capitals: [Bool] = []
        /// Each word's `WordInterner.tableHash`, computed here on the analysis threads.
        private var hashes: [UInt32] = []
        /// The field's length in word positions.
        private(set) var length = 0

        mutating func append(_ word: UnsafeBufferPointer<UInt8>, position: Int, capitalized: Bool) {
            bytes.append(contentsOf: word)
            ends.append(Int32(bytes.count))
            positions.append(Int32(position))
            capitals.append(capitalized)
            hashes.append(WordInterner.tableHash(word))
            length = max(length, position + 1)
        }

        /// The hashes of words ahead of the one `forEach` gives, to prefetch by (see
        /// `FieldPostings.prefetch`): 4, 8 and 12 words ahead (the last word's where there is none).
        struct Lookahead {
            let near: UInt32, middle: UInt32, far: UInt32
        }

        /// Calls `body` with each word, its hash, position and capitalization, and the hashes of
        /// words ahead.
        func forEach(_ body: (UnsafeBufferPointer<UInt8>, UInt32, Int32, Bool, Lookahead) -> Void) {
            bytes.withUnsafeBufferPointer { bytes in
                hashes.withUnsafeBufferPointer { hashes in
                    let last = hashes.count - 1
                    var start = 0
                    for index in ends.indices {
                        let end = Int(ends[index])
                        let ahead = Lookahead(near: hashes[min(index + 4, last)], middle: hashes[min(index + 8, last)], far: hashes[min(index + 12, last)])
                        body(UnsafeBufferPointer(rebasing: bytes[start..<end]), hashes[index], positions[index], capitals[index], ahead)
                        start = end
                    }
                }
            }
        }
    }

    private(set) var fields: [FieldWords] = []

    init(_ document: Document, analyzer: GermanAnalyzer) {
        fields = Field.allCases.map { field in
            var words = FieldWords()
            var text = field == .title ? document.title : document.body
            text.withUTF8 { utf8 in
                analyzer.forEachWord(inUTF8: utf8) { word, position, range, _ in
                    words.append(word, position: position, capitalized: ProperNames.isCapitalized(utf8, at: range.lowerBound))
                }
            }
            return words
        }
    }
}

/// The decompounding step of a commit: builds the lexicon from the corpus's words and the system
/// word list, splits every distinct word, and gathers each part's postings from the compounds
/// that contain it (merged by the compounds' positions, written without them).
struct Decompounding {
    /// Words that may be parts, and words that may be compounds, in key order, with their evidence.
    private(set) var lexicon: [(String, WordEvidence)] = []
    /// The words of each compound split, by compound.
    private var splits = CompoundSplits()
    /// The system word list used, if any.
    private(set) var wordList: String?
    /// The decompounder's frequency thresholds, recorded for queries.
    private(set) var thresholds = GermanDecompounder.Thresholds(corpusWords: 0)
    /// Per field, the part terms in key order, each with the lists of the compounds containing
    /// it (see `gatherParts`).
    private var parts: [[(term: [UInt8], lists: [FieldPostings.List])]] = []

    /// Those of `words` that were split.
    func compounds(among words: [String]) -> Set<String> {
        Set(words.filter { splits.contains($0) })
    }

    /// Whether the decompounder is asked to split `word`: long and all letters.
    private static func mayBeCompound(_ word: String) -> Bool {
        word.utf8.count >= GermanDecompounder.minimumCompound && GermanAnalyzer.isAllLetters(word)
    }

    /// No compounds: nothing split, no parts.
    init() {}

    /// Builds the lexicon and splits every word (no part lists yet: see `gatherParts`).
    /// - Parameters:
    ///   - uses: every distinct word of the corpus with its uses (`FieldPostings.wordUses`).
    init(uses: [String: (uses: Int, capitalized: Int)], systemWords: Set<String>?, enabled: Bool, threads: Int) {
        guard enabled else { return }
        wordList = systemWords == nil ? nil : SystemWordList.path
        thresholds = GermanDecompounder.Thresholds(corpusWords: uses.values.reduce(0) { $0 + $1.uses })
        let hasWordList = systemWords != nil, thresholds = thresholds
        // Read from the uses on demand: a table of every word's evidence would take as much
        // memory again (a million words on FANG).
        func evidence(_ word: String) -> WordEvidence? {
            uses[word].map { WordEvidence(frequency: $0.uses, known: systemWords?.contains(word) ?? false) }
        }
        // On a small corpus a listed word may be a part without being used (threshold 0).
        let lookup: (String) -> WordEvidence? = { word in
            evidence(word) ?? (thresholds.listed == 0 && systemWords?.contains(word) == true ? WordEvidence(frequency: 0, known: true) : nil)
        }
        // The lexicon: words that may be parts; the words of splits (on small corpora, parts the
        // corpus never uses alone), so queries split alike; and words used more than once that
        // could be compounds: a word's own frequency decides whether splitting it is worth it, so
        // segments analyzed with the index's lexicon, and queries, split exactly as this did.
        // An array sorted in place, not a table: a million words at 4x FANG.
        func addLexicon(pieces: Set<String>, partTest: GermanDecompounder) {
            for (word, counts) in uses where partTest.isPart(word) || pieces.contains(word) || (counts.uses > 1 && Self.mayBeCompound(word)) {
                lexicon.append((word, WordEvidence(frequency: counts.uses, known: systemWords?.contains(word) ?? false)))
            }
            for word in pieces where uses[word] == nil {
                if let found = lookup(word) { lexicon.append((word, found)) }
            }
            lexicon.sort { ByteOrder.precedes($0.0, $1.0) }
        }
        let makeUsesDecompounder = { GermanDecompounder(wordEvidence: lookup, hasWordList: hasWordList, thresholds: thresholds) }
        guard thresholds.listed > 0 else {
            splits = Self.split(uses.keys, threads: threads, decompounder: makeUsesDecompounder)
            addLexicon(pieces: Set(splits.pieceList), partTest: makeUsesDecompounder())
            return
        }
        // Every piece of a split passed as a part, and on a corpus this large only a word it uses
        // can: the lexicon is known before any word is split. Words are then split with the
        // lexicon in memory, as the index's later segments are, which splits alike (a word left
        // out has no weight as a part and counts as used once) and makes no string per lookup.
        addLexicon(pieces: [], partTest: makeUsesDecompounder())
        var table = LexiconTable(capacity: lexicon.count)
        for (word, found) in lexicon {
            var word = word
            word.withUTF8 { table.add($0, found) }
        }
        splits = Self.split(uses.keys, threads: threads) { table.decompounder(hasWordList: hasWordList, thresholds: thresholds) }
    }

    /// Splits every word with the index's decompounder (`AnalysisDictionary`): the lexicon is the
    /// index's, not this segment's.
    init(words: Set<String>, decompounder: @escaping () -> GermanDecompounder, threads: Int) {
        splits = Self.split(words, threads: threads, decompounder: decompounder)
    }

    /// Every long alphabetic word's split, on `threads` threads, each worker with its own
    /// decompounder (its memo; the evidence is only read) and its own splits, merged at the end.
    private static func split(_ words: some Collection<String>, threads: Int,
                              decompounder: () -> GermanDecompounder) -> CompoundSplits {
        let candidates = words.filter(mayBeCompound)
        let workers = max(1, threads)
        var results = [CompoundSplits](repeating: CompoundSplits(), count: workers)
        results.withUnsafeMutableBufferPointer { output in
            let output = output
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let decompounder = decompounder()
                var found = CompoundSplits()
                for word in candidates[(candidates.count * worker / workers)..<(candidates.count * (worker + 1) / workers)] {
                    guard let split = decompounder.split(word) else { continue }
                    found.add(word, pieces: split.pieces.map(\.word))
                }
                output[worker] = found
            }
        }
        // Merged into the first, each dropped once merged: never two copies of all splits.
        var merged = results[0]
        for worker in 1..<results.count {
            merged.add(results[worker])
            results[worker] = CompoundSplits()
        }
        return merged
    }

    /// Gathers each part's postings from the compounds containing it, under the part's term.
    mutating func gatherParts(fields: [FieldPostings], words: [[String]], termAnalyzers: [GermanAnalyzer]) {
        parts = fields.map { _ in [] }
        guard !splits.isEmpty else { return }
        // Each distinct piece (numbered by `splits`) stemmed once, and the compounds' lists
        // gathered by term number: hashing every compound's part terms as byte arrays, with a set
        // per compound, took most of this step.
        // Per field, each compound's word number and its pieces' numbers in `compoundPieces`.
        var compounds: [[(word: Int, pieces: Range<Int>)]] = fields.map { _ in [] }
        var compoundPieces: [Int] = []
        for (index, fieldWords) in words.enumerated() {
            for (word, text) in fieldWords.enumerated() {
                let start = compoundPieces.count
                guard splits.forEachPiece(of: text, { compoundPieces.append($0) }) else { continue }
                compounds[index].append((word, start..<compoundPieces.count))
            }
        }
        let pieces = splits.pieceList
        // Pieces with the same term (`Waffe`, `Waffen`) share its number: its place in key order.
        let terms = TermGroups(words: pieces, using: termAnalyzers)
        var pieceTerms = [Int](repeating: 0, count: pieces.count)
        terms.withWords { starts, pieceNumbers in
            for number in 0..<terms.count {
                for slot in Int(starts[number])..<Int(starts[number + 1]) { pieceTerms[Int(pieceNumbers[slot])] = number }
            }
        }
        for (index, field) in fields.enumerated() {
            var lists = [[FieldPostings.List]](repeating: [], count: terms.count)
            for (word, range) in compounds[index] {
                for slot in range {
                    // A term twice in one compound takes the compound's list once.
                    let term = pieceTerms[compoundPieces[slot]]
                    if !compoundPieces[range.lowerBound..<slot].contains(where: { pieceTerms[$0] == term }) {
                        lists[term].append(field.lists[word])
                    }
                }
            }
            parts[index] = (0..<terms.count).filter { !lists[$0].isEmpty }.map { (terms.term($0), lists[$0]) }
        }
        // Written and read: what is left to write is the part lists. Kept, the splits and the
        // lexicon raised a one-part FANG build's peak by 42 MiB, to 374 MiB.
        splits = CompoundSplits()
        lexicon = []
    }

    /// Drops the lexicon (written to the analysis dictionary), keeping the splits.
    mutating func removeLexicon() {
        lexicon = []
    }

    /// The part terms of field number `field`, in key order, each with the lists of the
    /// compounds that contain it (to merge one term at a time).
    func partLists(field: Int) -> [(term: [UInt8], lists: [FieldPostings.List])] { parts[field] }
}

/// Compound words with the words they split into, held in flat arrays: the compounds and the
/// distinct pieces interned, each compound's pieces as numbers.
///
/// A dictionary of strings to arrays of strings (an array and often a string per compound) held
/// FANG's 263,299 compounds from the decompounding until the part lists are gathered, beside
/// the postings: a one-part build's evidence took 16 MiB more than it does so.
struct CompoundSplits {
    private var compounds = WordInterner()
    private var pieces = WordInterner()
    /// Compound `n`'s pieces are `pieceNumbers[pieceStarts[n]..<pieceStarts[n + 1]]`.
    private var pieceStarts: [Int32] = [0]
    private var pieceNumbers: [Int32] = []

    var isEmpty: Bool { compounds.count == 0 }

    /// Adds `compound` split into `words`, unless it has a split already.
    mutating func add(_ compound: String, pieces words: [String]) {
        var compound = compound
        guard compound.withUTF8({ compounds.intern($0).isNew }) else { return }
        for word in words {
            var word = word
            pieceNumbers.append(Int32(word.withUTF8 { pieces.intern($0).id }))
        }
        pieceStarts.append(Int32(pieceNumbers.count))
    }

    /// Adds the splits of `other` whose compounds this has not.
    mutating func add(_ other: CompoundSplits) {
        for compound in 0..<other.compounds.count {
            let range = Int(other.pieceStarts[compound])..<Int(other.pieceStarts[compound + 1])
            add(other.compounds.word(compound), pieces: range.map { other.pieces.word(Int(other.pieceNumbers[$0])) })
        }
    }

    /// Whether `word` has a split.
    func contains(_ word: String) -> Bool { compounds.id(of: word) != nil }

    /// Calls `body` with the number of each piece of `word`'s split, in order (numbers index
    /// `pieceList`); false when `word` has no split.
    func forEachPiece(of word: String, _ body: (Int) -> Void) -> Bool {
        guard let compound = compounds.id(of: word) else { return false }
        for slot in Int(pieceStarts[compound])..<Int(pieceStarts[compound + 1]) { body(Int(pieceNumbers[slot])) }
        return true
    }

    /// The distinct pieces, by number.
    var pieceList: [String] { (0..<pieces.count).map(pieces.word) }
}
