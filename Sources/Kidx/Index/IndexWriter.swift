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
    private var fields: [FieldPostings] = Field.allCases.map { _ in FieldPostings() }
    private var storedDocuments: [Document] = []
    private var ids: Set<String> = []
    private var norms: [[UInt8]] = Field.allCases.map { _ in [] }
    private var totalLengths: [Int] = Field.allCases.map { _ in 0 }

    /// Opens a writer for `directory`, which is created if missing.
    public init(directory: String, options: AnalyzerOptions = .default) throws {
        self.directory = directory
        self.options = options
        analyzer = GermanAnalyzer(options: options)
    }

    /// Documents added so far.
    public var documentCount: Int { storedDocuments.count }

    /// Analyzes and adds a document. Returns false, adding nothing, when a document with the same
    /// id was already added.
    @discardableResult
    public func add(_ document: Document) throws -> Bool {
        guard ids.insert(document.id).inserted else { return false }
        let doc = Int32(storedDocuments.count)
        for (index, field) in Field.allCases.enumerated() {
            let text = field == .title ? document.title : document.body
            var length = 0
            analyzer.forEachTerm(in: text) { term, position, _, _ in
                fields[index].add(term: term, doc: doc, position: Int32(position))
                length = max(length, position + 1)
            }
            norms[index].append(FieldNorms.encode(length))
            totalLengths[index] += length
        }
        storedDocuments.append(document)
        return true
    }

    /// Writes everything added into a new generation and makes it the current index.
    @discardableResult
    public func commit() throws -> CommitSummary {
        let layout = IndexDirectory(path: directory)
        let (temporary, name) = try layout.prepareNewGeneration()
        do {
            let summary = try write(into: temporary, generation: name)
            try layout.publish(temporary: temporary, name: name)
            return summary
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    private func write(into folder: String, generation: String) throws -> CommitSummary {
        func open(_ kind: IndexFormat.Kind) throws -> IndexFileWriter {
            try IndexFileWriter(path: folder + "/" + kind.fileName, kind: kind)
        }
        let termsFile = try open(.terms), postingsFile = try open(.postings), positionsFile = try open(.positions)
        let dictionary = TermDictionaryWriter(file: termsFile)
        var postingsWriter = PostingsWriter()
        var postingCount = 0
        for (index, field) in Field.allCases.enumerated() {
            let fieldNorms = norms[index]
            for (term, id) in fields[index].sortedTerms() {
                let list = fields[index].lists[Int(id)]
                let address = try postingsWriter.write(
                    docs: list.docs[...], freqs: list.freqs[...], positions: list.positions[...],
                    norms: { fieldNorms[Int($0)] }, postings: postingsFile, positionsFile: positionsFile)
                try dictionary.add(key: [field.rawValue] + term, info: TermInfo(
                    docFreq: address.docFreq, postingsOffset: address.postingsOffset, positionsOffset: address.positionsOffset))
                postingCount += address.docFreq
            }
        }
        try dictionary.finish()
        try termsFile.finish()
        try postingsFile.finish()
        try positionsFile.finish()

        let normsFile = try open(.norms)
        for fieldNorms in norms { try normsFile.write(fieldNorms) }
        try normsFile.finish()

        let storeFile = try open(.store)
        let store = DocumentStoreWriter(file: storeFile)
        for document in storedDocuments { try store.add(document) }
        try store.finish()
        try storeFile.finish()

        var files: [SegmentInfo.FileInfo] = []
        for kind in IndexFormat.Kind.allCases {
            let size = (try FileManager.default.attributesOfItem(atPath: folder + "/" + kind.fileName)[.size] as? Int) ?? 0
            files.append(.init(name: kind.fileName, bytes: size))
        }
        let info = SegmentInfo(
            formatVersion: Int(IndexFormat.version), documentCount: storedDocuments.count,
            termCount: dictionary.termCount, postingCount: postingCount,
            fields: Dictionary(uniqueKeysWithValues: Field.allCases.enumerated().map { ($1.name, .init(totalLength: totalLengths[$0])) }),
            analyzer: options, files: files, created: ISO8601DateFormatter().string(from: Date()))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(info)
        let segmentPath = folder + "/" + IndexDirectory.segmentFile
        guard FileManager.default.createFile(atPath: segmentPath, contents: json) else {
            throw KidxError.io(path: segmentPath, reason: "cannot write")
        }
        return CommitSummary(documents: storedDocuments.count, terms: dictionary.termCount, postings: postingCount,
                             bytes: files.reduce(json.count) { $0 + $1.bytes }, generation: generation)
    }
}

/// The in-memory postings of one field: every term's documents, frequencies and positions.
struct FieldPostings {
    struct List {
        var docs: [Int32] = []
        var freqs: [UInt32] = []
        var positions: [Int32] = []
    }

    private var termIds: [String: Int32] = [:]
    private(set) var lists: [List] = []

    mutating func add(term: UnsafeBufferPointer<UInt8>, doc: Int32, position: Int32) {
        let key = String(decoding: term, as: UTF8.self)
        let id: Int
        if let existing = termIds[key] {
            id = Int(existing)
        } else {
            id = lists.count
            termIds[key] = Int32(id)
            lists.append(List())
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
    }

    /// Terms as UTF-8 bytes in byte order, with their list numbers.
    func sortedTerms() -> [([UInt8], Int32)] {
        termIds.map { (Array($0.key.utf8), $0.value) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
    }
}
