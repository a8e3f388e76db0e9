import Foundation

/// Index-wide figures, as `kidx stats` prints them.
public struct IndexStatistics: Sendable, Codable {
    /// Documents in the index.
    public var documents: Int
    /// Distinct field-terms.
    public var terms: Int
    /// Document-term pairs.
    public var postings: Int
    /// Each file's name and size in bytes.
    public var files: [String: Int]
    /// The generation folder in use.
    public var generation: String
    /// The analyzer stages the index was built with.
    public var analyzer: AnalyzerOptions
}

/// An open index: its files memory-mapped, nothing read in proportion to the corpus.
///
/// A reader keeps the generation it opened even while a later build replaces it.
public final class IndexReader {
    /// The directory opened.
    public let directory: String
    let info: SegmentInfo
    let generation: String
    let terms: TermDictionary
    let postingsFile: MappedIndexFile
    let positionsFile: MappedIndexFile
    let normsFile: MappedIndexFile
    let storeFile: MappedIndexFile
    let termsFile: MappedIndexFile
    let store: DocumentStore

    /// Opens the current generation of the index at `directory`. Throws `KidxError.indexMissing`
    /// when there is none, and `corruptIndex` when a file is truncated or not a kidx file.
    public init(directory: String) throws {
        self.directory = directory
        let layout = IndexDirectory(path: directory)
        guard let generation = try layout.currentGeneration() else { throw KidxError.indexMissing(path: directory) }
        self.generation = generation
        let segmentPath = generation + "/" + IndexDirectory.segmentFile
        guard let json = FileManager.default.contents(atPath: segmentPath) else {
            throw KidxError.corruptIndex(file: IndexDirectory.segmentFile, reason: "missing in \(generation)")
        }
        let info: SegmentInfo
        do {
            info = try JSONDecoder().decode(SegmentInfo.self, from: json)
        } catch {
            throw KidxError.corruptIndex(file: IndexDirectory.segmentFile, reason: "unreadable JSON")
        }
        self.info = info
        guard info.formatVersion == Int(IndexFormat.version) else {
            throw KidxError.unsupportedFormat(file: IndexDirectory.segmentFile, version: info.formatVersion)
        }
        func map(_ kind: IndexFormat.Kind) throws -> MappedIndexFile {
            let file = try MappedIndexFile(path: generation + "/" + kind.fileName, kind: kind)
            if let expected = info.files.first(where: { $0.name == kind.fileName })?.bytes, expected != file.fileSize {
                throw KidxError.corruptIndex(file: kind.fileName, reason: "size \(file.fileSize) differs from the recorded \(expected)")
            }
            return file
        }
        termsFile = try map(.terms)
        postingsFile = try map(.postings)
        positionsFile = try map(.positions)
        normsFile = try map(.norms)
        storeFile = try map(.store)
        terms = try TermDictionary(file: termsFile)
        store = try DocumentStore(file: storeFile)
        // Norms are read wherever a search scores: checked whole at open (two bytes a document).
        try normsFile.check(0..<normsFile.body.count)
        guard normsFile.body.count == info.documentCount * Field.allCases.count, store.documentCount == info.documentCount else {
            throw KidxError.corruptIndex(file: IndexFormat.Kind.norms.fileName, reason: "document counts disagree")
        }
    }

    /// Number of documents.
    public var documentCount: Int { info.documentCount }

    /// The analyzer stages the index was built with; queries must use the same.
    public var analyzerOptions: AnalyzerOptions { info.analyzer }

    /// The stored document with internal number `doc`.
    public func document(_ doc: Int) throws -> Document { try store.document(doc) }

    /// The stored document with the external id `id` (a scan of the store: for `kidx show`).
    public func document(id: String) throws -> Document {
        var found: Document?
        try store.forEach { _, document in
            if found == nil, document.id == id { found = document }
        }
        guard let found else { throw KidxError.documentNotFound(id: id) }
        return found
    }

    /// Every document's external id, by internal number (one pass over the store).
    public func allIDs() throws -> [String] {
        var ids: [String] = []
        ids.reserveCapacity(documentCount)
        try store.forEach { _, document in ids.append(document.id) }
        return ids
    }

    /// The norm bytes of `field`, one per document.
    func norms(_ field: Field) -> UnsafeRawBufferPointer {
        let index = Field.allCases.firstIndex(of: field)!
        return UnsafeRawBufferPointer(rebasing: normsFile.body[(index * documentCount)..<((index + 1) * documentCount)])
    }

    /// A cursor over the postings of a dictionary key, or nil when no document has it.
    func postings(_ key: [UInt8]) throws -> PostingsCursor? {
        guard let info = try terms.lookup(key), key.first != Field.lexiconSpace, key.first != Field.nameSpace else { return nil }
        return try cursor(info)
    }

    /// The decompounder of this index: the build's lexicon, read from the term dictionary, so
    /// queries split compounds exactly as the build did.
    func decompounder() -> GermanDecompounder {
        GermanDecompounder(evidence: { [terms] word in
            guard let info = try? terms.lookup([Field.lexiconSpace] + Array(word.utf8)) else { return nil }
            return WordEvidence(frequency: info.docFreq >> 1, known: info.docFreq & 1 == 1)
        }, hasWordList: info.wordList != nil, thresholds: info.partThresholds)
    }

    /// An analyzer that reads text as this index's build did: the same stages, and the proper
    /// names it kept from the stemmer. Use one per thread.
    public func makeAnalyzer() -> GermanAnalyzer {
        let analyzer = GermanAnalyzer(options: info.analyzer)
        if (info.names ?? 0) > 0 {
            // Snippets ask for every word of a text: answers are remembered (up to a bound).
            final class Memo { var terms: [[UInt8]: [UInt8]?] = [:] }
            let memo = Memo()
            analyzer.nameTerm = { [terms] word in
                if let known = memo.terms[word] { return known }
                var key = word
                SpellingVariants.stripUmlauts(&key)
                let found = (try? terms.lookup([Field.nameSpace] + key)).flatMap { $0 }
                let term = found.map { ProperNames.Entry(key: key, dropsGenitive: $0.docFreq == 1).term }
                if memo.terms.count >= 50_000 { memo.terms.removeAll() }
                memo.terms[word] = .some(term)
                return term
            }
        }
        return analyzer
    }

    func cursor(_ info: TermInfo) throws -> PostingsCursor {
        try PostingsCursor(docFreq: info.docFreq, postingsOffset: info.postingsOffset, positionsOffset: info.positionsOffset,
                           postings: postingsFile, positions: positionsFile)
    }

    /// Counts and file sizes.
    public func statistics() -> IndexStatistics {
        var files: [String: Int] = [:]
        for file in [termsFile, postingsFile, positionsFile, normsFile, storeFile] { files[file.name] = file.fileSize }
        return IndexStatistics(documents: info.documentCount, terms: info.termCount, postings: info.postingCount,
                               files: files, generation: (generation as NSString).lastPathComponent, analyzer: info.analyzer)
    }

    /// Verifies every file's checksum and decodes every structure: the dictionary, every posting
    /// list with its positions, and every stored document. Throws the first problem found.
    public func verify(progress: (String) -> Void = { _ in }) throws {
        for file in [termsFile, postingsFile, positionsFile, normsFile, storeFile] {
            progress("checksum \(file.name)")
            try file.verifyChecksum()
        }
        progress("postings")
        var positions: [Int32] = []
        var checked = 0
        try terms.forEachEntry { key, termInfo in
            checked += 1
            guard let space = key.first, space <= Field.nameSpace else {
                throw KidxError.corruptIndex(file: termsFile.name, reason: "term with unknown field \(key.first ?? 0)")
            }
            if space == Field.lexiconSpace || space == Field.nameSpace { return }
            var cursor = try cursor(termInfo)
            var count = 0, previous: Int32 = -1
            while try cursor.next() {
                guard cursor.doc > previous, Int(cursor.doc) < documentCount else {
                    throw KidxError.corruptIndex(file: postingsFile.name, reason: "document \(cursor.doc) out of order or range")
                }
                if space < Field.title.exactSpace { try cursor.positions(into: &positions) }
                previous = cursor.doc
                count += 1
            }
            guard count == termInfo.docFreq else {
                throw KidxError.corruptIndex(file: postingsFile.name, reason: "list has \(count) documents, dictionary says \(termInfo.docFreq)")
            }
        }
        guard checked == info.termCount else {
            throw KidxError.corruptIndex(file: termsFile.name, reason: "\(checked) terms, segment says \(info.termCount)")
        }
        progress("stored documents")
        var stored = 0
        try store.forEach { _, _ in stored += 1 }
        guard stored == documentCount else { throw KidxError.corruptIndex(file: storeFile.name, reason: "\(stored) documents stored, \(documentCount) indexed") }
    }
}
