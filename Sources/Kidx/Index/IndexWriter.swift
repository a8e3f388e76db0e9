import Foundation

/// What a commit wrote.
public struct CommitSummary: Sendable, Codable {
    /// Documents in the new index.
    public var documents: Int
    /// Distinct field-terms.
    public var terms: Int
    /// Document-term pairs.
    public var postings: Int
    /// Bytes of all index files.
    public var bytes: Int
    /// The generation folder that became current.
    public var generation: String
}

/// Builds an index in memory and writes it to an index directory on `commit()`.
///
/// ```swift
/// let writer = try IndexWriter(directory: "Index")
/// try writer.add(Document(id: "a1", title: "Neue Sanktionen", body: "…"))
/// try writer.commit()
/// ```
/// The previous index in the directory stays live until the commit completes.
public final class IndexWriter {
    /// The index directory written to.
    public let directory: String
    /// The analyzer stages used for every document (recorded in the index for queries).
    public let options: AnalyzerOptions

    private let analyzer: GermanAnalyzer
    /// Held from creation until the writer is released: one writer per index directory.
    private let lock: IndexLock
    private var fields: [FieldPostings] = Field.allCases.map { _ in FieldPostings() }
    /// The generation being written: its temporary folder (removed unless committed) and name.
    private let generation: (temporary: String, name: String)
    /// Documents go to the store as they are added, so the writer does not hold their text.
    private let storeFile: IndexFileWriter
    private let store: DocumentStoreWriter
    private var committed = false
    private var ids: Set<String> = []
    private var norms: [[UInt8]] = Field.allCases.map { _ in [] }
    private var totalLengths: [Int] = Field.allCases.map { _ in 0 }
    /// Documents by outlet and by publication day, for filters and sorting by date.
    private var sources: [String: [Int32]] = [:]
    private var days: [String: [Int32]] = [:]

    /// Threads that analyze documents (`add(contentsOf:)`) and split compounds at commit.
    public let threads: Int
    /// One analyzer per analyzing thread (ICU and Snowball state is not shared).
    private let workerAnalyzers: [GermanAnalyzer]

    /// Opens a writer for `directory`, which is created if missing. Throws `KidxError.locked`
    /// while another writer (in any process) has it. `threads` analyze and split in parallel.
    public init(directory: String, options: AnalyzerOptions = .default, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        lock = try IndexLock(directory: directory)
        self.directory = directory
        self.options = options
        self.threads = max(1, threads)
        analyzer = GermanAnalyzer(options: options)
        workerAnalyzers = (0..<max(1, threads)).map { _ in GermanAnalyzer(options: options) }
        generation = try IndexDirectory(path: directory).prepareNewGeneration()
        storeFile = try IndexFileWriter(path: generation.temporary + "/" + IndexFormat.Kind.store.fileName, kind: .store)
        store = DocumentStoreWriter(file: storeFile)
    }

    deinit {
        if !committed { try? FileManager.default.removeItem(atPath: generation.temporary) }
    }

    /// Documents added so far.
    public private(set) var documentCount = 0

    /// Analyzes and adds a document. Returns false, adding nothing, when a document with the same
    /// id was already added.
    @discardableResult
    public func add(_ document: Document) throws -> Bool {
        try add(contentsOf: [document])[0]
    }

    /// Analyzes documents on `threads` threads and adds them in order. Returns, per document,
    /// false when one with the same id was already added (that one is skipped).
    @discardableResult
    public func add(contentsOf documents: [Document]) throws -> [Bool] {
        guard !committed else { throw KidxError.io(path: directory, reason: "this writer has committed; open a new one") }
        let accepted = documents.map { ids.insert($0.id).inserted }
        let kept = documents.indices.filter { accepted[$0] }
        // Analysis (word breaking, folding) in parallel; the postings, in document order, here.
        var analyzed = [AnalyzedDocument](repeating: AnalyzedDocument(), count: kept.count)
        let workers = min(threads, kept.count)
        if workers <= 1 {
            for (slot, index) in kept.enumerated() { analyzed[slot] = AnalyzedDocument(documents[index], analyzer: analyzer) }
        } else {
            analyzed.withUnsafeMutableBufferPointer { output in
                let output = output
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    let range = (kept.count * worker / workers)..<(kept.count * (worker + 1) / workers)
                    for slot in range { output[slot] = AnalyzedDocument(documents[kept[slot]], analyzer: workerAnalyzers[worker]) }
                }
            }
        }
        for (slot, index) in kept.enumerated() {
            let document = documents[index]
            let doc = Int32(documentCount)
            for (field, words) in analyzed[slot].fields.enumerated() {
                words.forEach { word, position, capitalized in
                    fields[field].add(word: word, doc: doc, position: position, capitalized: capitalized)
                }
                norms[field].append(FieldNorms.encode(words.length))
                totalLengths[field] += words.length
            }
            if let source = document.source.map(Field.normalizedSource), !source.isEmpty { sources[source, default: []].append(doc) }
            if let day = document.date.flatMap(Field.day) { days[day, default: []].append(doc) }
            try store.add(document)
            documentCount += 1
        }
        return accepted
    }

    /// Writes everything added into a new generation and makes it the current index. A writer
    /// commits once.
    @discardableResult
    public func commit() throws -> CommitSummary {
        guard !committed else { throw KidxError.io(path: directory, reason: "this writer has committed already; open a new one") }
        let summary = try write(into: generation.temporary, generation: generation.name)
        try IndexDirectory(path: directory).publish(temporary: generation.temporary, name: generation.name)
        committed = true
        return summary
    }

    private func write(into folder: String, generation: String) throws -> CommitSummary {
        func open(_ kind: IndexFormat.Kind) throws -> IndexFileWriter {
            try IndexFileWriter(path: folder + "/" + kind.fileName, kind: kind)
        }
        let termsFile = try open(.terms), postingsFile = try open(.postings), positionsFile = try open(.positions)
        let dictionary = TermDictionaryWriter(file: termsFile)
        var postingsWriter = PostingsWriter()
        var postingCount = 0
        // Each field's distinct words as strings, by word number: made once, read by every step.
        let words = fields.map { $0.distinctWords() }
        let systemWords = options.decompounding || options.protectNames ? SystemWordList.load(folding: analyzer) : nil
        let uses = FieldPostings.wordUses(fields, words: words)
        var decompounding = Decompounding(uses: uses, systemWords: systemWords, enabled: options.decompounding, threads: threads)
        // Names are known once compounds are: a compound of known words is no name. Terms are
        // taken only from here on, so stems, parts and queries all see the names.
        let names = options.protectNames && options.stemming
            ? ProperNames(words: uses, systemWords: systemWords, compounds: decompounding.compounds,
                          stem: analyzer.term(ofWord:))
            : ProperNames()
        analyzer.nameTerm = names.term(of:)
        decompounding.gatherParts(fields: fields, words: words, analyzer: analyzer)

        for (word, evidence) in decompounding.lexicon {
            try dictionary.add(key: [Field.lexiconSpace] + Array(word.utf8), info: TermInfo(
                docFreq: evidence.frequency << 1 | (evidence.known ? 1 : 0), postingsOffset: 0, positionsOffset: 0))
        }
        func write(_ list: FieldPostings.List, key: [UInt8], field: Int, withPositions: Bool = true) throws -> TermInfo {
            let fieldNorms = norms[field]
            let address = try postingsWriter.write(
                docs: list.docs[...], freqs: list.freqs[...], positions: list.positions[...],
                norms: { fieldNorms[Int($0)] }, withPositions: withPositions, postings: postingsFile, positionsFile: positionsFile)
            let info = TermInfo(docFreq: address.docFreq, postingsOffset: address.postingsOffset, positionsOffset: address.positionsOffset)
            try dictionary.add(key: key, info: info)
            postingCount += address.docFreq
            return info
        }
        // Key order: stems of each field, compound parts of each field, exact words of each field,
        // outlets, days, names.
        // A word that is its stem's only form has the stem's list: its exact entry points there.
        var onlyForms: [[String: TermInfo]] = Field.allCases.map { _ in [:] }
        for (index, field) in Field.allCases.enumerated() {
            for (term, group) in FieldPostings.termGroups(words[index], analyzer: analyzer) {
                // Merged one term at a time: all merged lists at once would double the memory.
                let info = try write(fields[index].mergedList(of: group), key: [field.rawValue] + term, field: index)
                if group.count == 1 { onlyForms[index][group[0]] = info }
            }
        }
        for (index, field) in Field.allCases.enumerated() {
            for (term, lists) in decompounding.partLists(field: index) {
                _ = try write(FieldPostings.List.merged(lists), key: [field.partSpace] + term, field: index)
            }
        }
        for (index, field) in Field.allCases.enumerated() {
            for (word, list) in zip(words[index], fields[index].lists).sorted(by: { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }) {
                if let shared = onlyForms[index][word] {
                    try dictionary.add(key: field.exactKey(word), info: shared)
                } else {
                    _ = try write(list, key: field.exactKey(word), field: index, withPositions: false)
                }
            }
        }
        for (space, lists) in [(Field.sourceSpace, sources), (Field.dateSpace, days)] {
            for (name, docs) in lists.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                let list = FieldPostings.List(docs: docs, freqs: Array(repeating: 1, count: docs.count), positions: [])
                _ = try write(list, key: [space] + Array(name.utf8), field: Field.allCases.firstIndex(of: .body)!, withPositions: false)
            }
        }
        for name in names.entries {
            try dictionary.add(key: [Field.nameSpace] + name.key, info: TermInfo(docFreq: name.dropsGenitive ? 1 : 0, postingsOffset: 0, positionsOffset: 0))
        }
        try dictionary.finish()
        try termsFile.finish()
        try postingsFile.finish()
        try positionsFile.finish()

        let normsFile = try open(.norms)
        for fieldNorms in norms { try normsFile.write(fieldNorms) }
        try normsFile.finish()

        try store.finish()
        try storeFile.finish()

        var files: [SegmentInfo.FileInfo] = []
        for kind in IndexFormat.Kind.allCases {
            let size = (try FileManager.default.attributesOfItem(atPath: folder + "/" + kind.fileName)[.size] as? Int) ?? 0
            files.append(.init(name: kind.fileName, bytes: size))
        }
        let info = SegmentInfo(
            formatVersion: Int(IndexFormat.version), documentCount: documentCount,
            termCount: dictionary.termCount, lexiconWords: decompounding.lexicon.count, compounds: decompounding.compounds.count,
            names: names.entries.count,
            wordList: decompounding.wordList, partThresholds: decompounding.thresholds, postingCount: postingCount,
            fields: Dictionary(uniqueKeysWithValues: Field.allCases.enumerated().map { ($1.name, .init(totalLength: totalLengths[$0])) }),
            analyzer: options, files: files, created: ISO8601DateFormatter().string(from: Date()))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(info)
        let segmentPath = folder + "/" + IndexDirectory.segmentFile
        guard FileManager.default.createFile(atPath: segmentPath, contents: json) else {
            throw KidxError.io(path: segmentPath, reason: "cannot write")
        }
        return CommitSummary(documents: documentCount, terms: dictionary.termCount, postings: postingCount,
                             bytes: files.reduce(json.count) { $0 + $1.bytes }, generation: generation)
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
        /// The field's length in word positions.
        private(set) var length = 0

        mutating func append(_ word: UnsafeBufferPointer<UInt8>, position: Int, capitalized: Bool) {
            bytes.append(contentsOf: word)
            ends.append(Int32(bytes.count))
            positions.append(Int32(position))
            capitals.append(capitalized)
            length = max(length, position + 1)
        }

        func forEach(_ body: (UnsafeBufferPointer<UInt8>, Int32, Bool) -> Void) {
            bytes.withUnsafeBufferPointer { bytes in
                var start = 0
                for index in ends.indices {
                    let end = Int(ends[index])
                    body(UnsafeBufferPointer(rebasing: bytes[start..<end]), positions[index], capitals[index])
                    start = end
                }
            }
        }
    }

    private(set) var fields: [FieldWords] = []

    init() {}

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

/// The in-memory postings of one field, by word as written (folded, not stemmed): each distinct
/// word is stemmed once at commit, and words that share a stem have their lists merged.
struct FieldPostings {
    struct List {
        var docs: [Int32] = []
        var freqs: [UInt32] = []
        var positions: [Int32] = []

        /// The union of many lists, merged pairwise so each posting is copied O(log n) times.
        static func merged(_ lists: [List]) -> List {
            var level = lists
            while level.count > 1 {
                var next: [List] = []
                next.reserveCapacity((level.count + 1) / 2)
                for index in stride(from: 0, to: level.count, by: 2) {
                    next.append(index + 1 < level.count ? merged(level[index], level[index + 1]) : level[index])
                }
                level = next
            }
            return level.first ?? List()
        }

        /// The union of two lists: documents in order, positions of a shared document merged.
        static func merged(_ a: List, _ b: List) -> List {
            var result = List()
            result.docs.reserveCapacity(a.docs.count + b.docs.count)
            result.freqs.reserveCapacity(a.docs.count + b.docs.count)
            result.positions.reserveCapacity(a.positions.count + b.positions.count)
            var i = 0, j = 0, pi = 0, pj = 0
            while i < a.docs.count || j < b.docs.count {
                let takeA = j == b.docs.count || (i < a.docs.count && a.docs[i] <= b.docs[j])
                let takeB = i == a.docs.count || (j < b.docs.count && b.docs[j] <= a.docs[i])
                let doc = takeA ? a.docs[i] : b.docs[j]
                let start = result.positions.count
                if takeA && takeB {
                    let endA = pi + Int(a.freqs[i]), endB = pj + Int(b.freqs[j])
                    while pi < endA || pj < endB {
                        let next: Int32
                        if pj == endB || (pi < endA && a.positions[pi] <= b.positions[pj]) {
                            next = a.positions[pi]; pi += 1
                        } else {
                            next = b.positions[pj]; pj += 1
                        }
                        if result.positions.count == start || result.positions.last! != next { result.positions.append(next) }
                    }
                    i += 1; j += 1
                } else if takeA {
                    result.positions.append(contentsOf: a.positions[pi..<(pi + Int(a.freqs[i]))])
                    pi += Int(a.freqs[i]); i += 1
                } else {
                    result.positions.append(contentsOf: b.positions[pj..<(pj + Int(b.freqs[j]))])
                    pj += Int(b.freqs[j]); j += 1
                }
                result.docs.append(doc)
                result.freqs.append(UInt32(result.positions.count - start))
            }
            return result
        }
    }

    private var interner = WordInterner()
    private(set) var lists: [List] = []
    /// Uses of each word written with a capital, by word number: names are told by it.
    private var capitalized: [Int32] = []

    mutating func add(word: UnsafeBufferPointer<UInt8>, doc: Int32, position: Int32, capitalized isCapitalized: Bool) {
        let (id, isNew) = interner.intern(word)
        if isNew {
            lists.append(List())
            capitalized.append(0)
        }
        if lists[id].docs.last == doc {
            // A joined hyphenated word shares its first part's position; never go backwards.
            guard let last = lists[id].positions.last, position > last else { return }
            lists[id].freqs[lists[id].freqs.count - 1] += 1
        } else {
            lists[id].docs.append(doc)
            lists[id].freqs.append(1)
        }
        lists[id].positions.append(position)
        if isCapitalized { capitalized[id] += 1 }
    }

    /// The distinct words as strings, by word number (`lists[n]` is word `n`'s list). Builds a
    /// string per word: a commit calls it once.
    func distinctWords() -> [String] { lists.indices.map(interner.word) }

    /// Every distinct word of `fields` (whose `distinctWords()` are `words`) with its uses and
    /// capitalized uses, over all fields.
    static func wordUses(_ fields: [FieldPostings], words: [[String]]) -> [String: (uses: Int, capitalized: Int)] {
        var uses: [String: (uses: Int, capitalized: Int)] = [:]
        for (field, fieldWords) in zip(fields, words) {
            for (id, word) in fieldWords.enumerated() {
                uses[word, default: (0, 0)].uses += field.lists[id].positions.count
                uses[word, default: (0, 0)].capitalized += Int(field.capitalized[id])
            }
        }
        return uses
    }

    /// Index terms as UTF-8 bytes in byte order, each with the words that have it.
    static func termGroups(_ words: [String], analyzer: GermanAnalyzer) -> [(term: [UInt8], words: [String])] {
        var groups: [[UInt8]: [String]] = [:]
        for word in words { groups[analyzer.term(ofWord: Array(word.utf8)), default: []].append(word) }
        return groups.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { ($0.key, $0.value) }
    }

    /// The union of the lists of `words`.
    func mergedList(of words: [String]) -> List {
        List.merged(words.map { lists[interner.id(of: $0)!] })
    }
}

/// The decompounding step of a commit: builds the lexicon from the corpus's words and the system
/// word list, splits every distinct word, and gathers each part's postings from the compounds
/// that contain it (at the compounds' positions).
struct Decompounding {
    /// Words that may be parts, in key order, with their evidence.
    private(set) var lexicon: [(String, WordEvidence)] = []
    /// The words of each compound split, by compound.
    private(set) var splits: [String: [String]] = [:]
    /// The system word list used, if any.
    private(set) var wordList: String?
    /// The decompounder's frequency thresholds, recorded for queries.
    private(set) var thresholds = GermanDecompounder.Thresholds(corpusWords: 0)
    private var parts: [[[UInt8]: [FieldPostings.List]]] = []

    /// The compounds split.
    var compounds: Set<String> { Set(splits.keys) }

    /// Builds the lexicon and splits every word (no part lists yet: see `gatherParts`).
    /// - Parameter uses: every distinct word of the corpus with its uses (`FieldPostings.wordUses`).
    init(uses: [String: (uses: Int, capitalized: Int)], systemWords: Set<String>?, enabled: Bool, threads: Int) {
        guard enabled else { return }
        wordList = systemWords == nil ? nil : SystemWordList.path
        let evidence = Dictionary(uniqueKeysWithValues: uses.map { word, counts in
            (word, WordEvidence(frequency: counts.uses, known: systemWords?.contains(word) ?? false))
        })
        thresholds = GermanDecompounder.Thresholds(corpusWords: uses.values.reduce(0) { $0 + $1.uses })
        let hasWordList = systemWords != nil, thresholds = thresholds
        // On a small corpus a listed word may be a part without being used (threshold 0).
        let lookup: (String) -> WordEvidence? = { word in
            evidence[word] ?? (thresholds.listed == 0 && systemWords?.contains(word) == true ? WordEvidence(frequency: 0, known: true) : nil)
        }
        let decompounder = GermanDecompounder(evidence: lookup, hasWordList: hasWordList, thresholds: thresholds)
        var lexiconWords = evidence.filter { decompounder.isPart($0.key) }

        // Split every distinct long word on `threads` threads: each worker has its own decompounder
        // (its memo); the evidence is only read.
        let candidates = uses.keys.filter {
            $0.utf8.count >= GermanDecompounder.minimumCompound && $0.unicodeScalars.allSatisfy(\.properties.isAlphabetic)
        }
        let workers = max(1, threads)
        var results = [[String: [String]]](repeating: [:], count: workers)
        results.withUnsafeMutableBufferPointer { output in
            let output = output
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let decompounder = GermanDecompounder(evidence: lookup, hasWordList: hasWordList, thresholds: thresholds)
                var splits: [String: [String]] = [:]
                for word in candidates[(candidates.count * worker / workers)..<(candidates.count * (worker + 1) / workers)] {
                    guard let split = decompounder.split(word) else { continue }
                    splits[word] = split.pieces.map(\.word)
                }
                output[worker] = splits
            }
        }
        splits = results.reduce(into: [String: [String]]()) { $0.merge($1) { first, _ in first } }
        // Parts the corpus never uses alone (small corpora) join the lexicon so queries split alike.
        for words in splits.values {
            for word in words where lexiconWords[word] == nil { lexiconWords[word] = lookup(word) }
        }
        lexicon = lexiconWords.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, $0.value) }
    }

    /// Gathers each part's postings from the compounds containing it, under the part's term.
    mutating func gatherParts(fields: [FieldPostings], words: [[String]], analyzer: GermanAnalyzer) {
        parts = fields.map { _ in [:] }
        guard !splits.isEmpty else { return }
        var terms: [String: [UInt8]] = [:]
        for (index, field) in fields.enumerated() {
            for (word, list) in zip(words[index], field.lists) {
                guard let pieces = splits[word] else { continue }
                var seen = Set<[UInt8]>()
                for part in pieces {
                    let term = terms[part] ?? analyzer.term(ofWord: Array(part.utf8))
                    terms[part] = term
                    if seen.insert(term).inserted { parts[index][term, default: []].append(list) }
                }
            }
        }
    }

    /// The part terms of field number `field`, in key order, each with the lists of the
    /// compounds that contain it (to merge one term at a time).
    func partLists(field: Int) -> [([UInt8], [FieldPostings.List])] {
        parts[field].sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { ($0.key, $0.value) }
    }
}
