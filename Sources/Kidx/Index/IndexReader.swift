import Foundation

/// Index-wide figures, as `kidx stats` prints them.
public struct IndexStatistics: Sendable, Codable {
    /// Documents in the index (not counting deleted ones).
    public var documents: Int
    /// Documents marked deleted and not yet merged away.
    public var deleted: Int
    /// Segments.
    public var segments: Int
    /// Distinct field-terms, summed over segments.
    public var terms: Int
    /// Document-term pairs, summed over segments.
    public var postings: Int
    /// Each file kind's name and total size in bytes.
    public var files: [String: Int]
    /// The generation folder in use.
    public var generation: String
    /// The analyzer stages the index was built with.
    public var analyzer: AnalyzerOptions
}

/// What one key space of the term dictionaries (title stems, body compound parts, outlets …)
/// holds and takes, summed over segments: `kidx stats --spaces`.
public struct KeySpaceStatistics: Sendable, Codable {
    /// The space's name (`body stems`).
    public var name: String
    /// Distinct keys.
    public var terms: Int
    /// Document-term pairs of its lists (a list shared with an earlier key counts there).
    public var postings: Int
    /// Bytes of its lists in `postings.kdx`.
    public var postingBytes: Int
    /// Bytes of its positions in `positions.kdx`.
    public var positionBytes: Int
}

/// An open index: the segments of its current generation, memory-mapped, with the BM25
/// statistics they share. Opening reads the manifest and maps files; nothing is read in
/// proportion to the corpus.
///
/// Documents are numbered across segments: segment `s`'s document `d` is `base(s) + d`.
/// A reader keeps the generation it opened even while a later commit replaces it.
public final class IndexReader {
    /// The directory opened.
    public let directory: String
    let generation: String
    let manifest: Manifest
    let segments: [SegmentReader]
    /// The first document number of each segment.
    let bases: [Int]
    let analysis: AnalysisDictionary

    /// Opens the current generation of the index at `directory`. Throws `KidxError.indexMissing`
    /// when there is none, and `corruptIndex` when a file is truncated or not a kidx file.
    public init(directory: String) throws {
        self.directory = directory
        let layout = IndexDirectory(path: directory)
        guard let generation = try layout.currentGeneration() else { throw KidxError.indexMissing(path: directory) }
        self.generation = generation
        let manifestPath = generation + "/" + IndexDirectory.manifestFile
        guard let json = FileManager.default.contents(atPath: manifestPath) else {
            if FileManager.default.fileExists(atPath: generation + "/" + IndexDirectory.segmentFile) {
                throw KidxError.unsupportedFormat(file: IndexDirectory.segmentFile, version: 4)
            }
            throw KidxError.corruptIndex(file: IndexDirectory.manifestFile, reason: "missing in \(generation)")
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: json)
        } catch {
            throw KidxError.corruptIndex(file: IndexDirectory.manifestFile, reason: "unreadable JSON")
        }
        guard manifest.formatVersion == Int(IndexFormat.version) else {
            throw KidxError.unsupportedFormat(file: IndexDirectory.manifestFile, version: manifest.formatVersion)
        }
        self.manifest = manifest
        segments = try manifest.segments.map {
            guard !$0.name.contains("/"), $0.deleted <= $0.documents else {
                throw KidxError.corruptIndex(file: IndexDirectory.manifestFile, reason: "bad segment entry \($0.name)")
            }
            return try SegmentReader(folder: generation + "/" + $0.name, documents: $0.documents, deleted: $0.deleted)
        }
        var bases: [Int] = [], next = 0
        for segment in segments {
            bases.append(next)
            next += segment.documentCount
        }
        self.bases = bases
        guard next < Int(Int32.max) else { throw KidxError.corruptIndex(file: IndexDirectory.manifestFile, reason: "too many documents") }
        analysis = try AnalysisDictionary(path: generation + "/" + IndexFormat.Kind.analysis.fileName, info: manifest.analysis)
    }

    /// Number of documents, deleted ones not counted.
    public var documentCount: Int { manifest.liveDocuments }

    /// Document numbers in use, deleted ones included: hits are below it.
    var documentSlots: Int { (bases.last ?? 0) + (segments.last?.documentCount ?? 0) }

    /// The analyzer stages the index was built with; queries must use the same.
    public var analyzerOptions: AnalyzerOptions { manifest.analyzer }

    /// The segment holding document number `doc`, and the document's number inside it.
    func locate(_ doc: Int) throws -> (segment: Int, local: Int) {
        guard doc >= 0, doc < documentSlots else { throw KidxError.documentNotFound(id: "#\(doc)") }
        var low = 0, high = bases.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if bases[middle] <= doc { low = middle } else { high = middle - 1 }
        }
        return (low, doc - bases[low])
    }

    /// The stored document with number `doc`.
    public func document(_ doc: Int) throws -> Document {
        let (segment, local) = try locate(doc)
        return try segments[segment].store.document(local)
    }

    /// The stored document with the external id `id` (a scan of the document tables: for
    /// `kidx show`).
    public func document(id: String) throws -> Document {
        for (segment, reader) in segments.enumerated() {
            for (local, entry) in try reader.documentTable().enumerated() where entry.id == id {
                if reader.deletions?.contains(Int32(local)) == true { continue }
                return try segments[segment].store.document(local)
            }
        }
        throw KidxError.documentNotFound(id: id)
    }

    /// Every document's external id, by document number (deleted ones included, so that a
    /// hit's number indexes it).
    public func allIDs() throws -> [String] {
        try segments.flatMap { try $0.documentTable().map(\.id) }
    }

    /// The live documents' ids with their content fingerprints and numbers: what an update
    /// compares a corpus against.
    func liveDocuments() throws -> [String: (doc: Int, fingerprint: UInt64)] {
        var result: [String: (doc: Int, fingerprint: UInt64)] = [:]
        for (segment, reader) in segments.enumerated() {
            for (local, entry) in try reader.documentTable().enumerated() where reader.deletions?.contains(Int32(local)) != true {
                result[entry.id] = (bases[segment] + local, entry.fingerprint)
            }
        }
        return result
    }

    /// The decompounder of this index: the build's lexicon, so queries split compounds exactly
    /// as the build did.
    func decompounder() -> GermanDecompounder { analysis.decompounder() }

    /// An analyzer that reads text as this index's build did: the same stages, and the proper
    /// names it kept from the stemmer. Use one per thread.
    public func makeAnalyzer() -> GermanAnalyzer {
        let analyzer = GermanAnalyzer(options: manifest.analyzer)
        if let lookup = analysis.nameLookup() { analyzer.nameTerm = lookup }
        return analyzer
    }

    /// Counts and file sizes.
    public func statistics() -> IndexStatistics {
        var files: [String: Int] = [IndexFormat.Kind.analysis.fileName: analysis.file.fileSize]
        for segment in segments {
            for file in segment.files + (segment.deletions.map { [$0.file] } ?? []) { files[file.name, default: 0] += file.fileSize }
        }
        return IndexStatistics(documents: documentCount, deleted: manifest.segments.reduce(0) { $0 + $1.deleted }, segments: segments.count,
                               terms: segments.reduce(0) { $0 + $1.info.termCount }, postings: segments.reduce(0) { $0 + $1.info.postingCount },
                               files: files, generation: (generation as NSString).lastPathComponent, analyzer: manifest.analyzer)
    }

    /// Terms, postings and list bytes per key space, in key order. Reads every dictionary
    /// entry, so it takes time in proportion to the terms.
    public func keySpaceStatistics() throws -> [KeySpaceStatistics] {
        var spaces: [UInt8: KeySpaceStatistics] = [:]
        for segment in segments {
            for (space, figures) in try segment.keySpaceStatistics() {
                spaces[space, default: KeySpaceStatistics(name: figures.name, terms: 0, postings: 0, postingBytes: 0, positionBytes: 0)].add(figures)
            }
        }
        return spaces.sorted { $0.key < $1.key }.map(\.value)
    }

    /// Verifies every file's checksum and decodes every structure: the analysis dictionary and,
    /// per segment, the dictionary, every posting list with its positions, and every stored
    /// document. Throws the first problem found.
    public func verify(progress: (String) -> Void = { _ in }) throws {
        progress("checksum \(analysis.file.name)")
        try analysis.verify()
        for segment in segments { try segment.verify(progress: progress) }
    }
}

extension KeySpaceStatistics {
    /// Adds another segment's figures for the same space.
    mutating func add(_ other: KeySpaceStatistics) {
        terms += other.terms
        postings += other.postings
        postingBytes += other.postingBytes
        positionBytes += other.positionBytes
    }

    /// The name of the key space whose keys start with `space`.
    static func name(of space: UInt8) -> String {
        if let field = Field(rawValue: space) { return "\(field.name) stems" }
        if let field = Field.allCases.first(where: { $0.partSpace == space }) { return "\(field.name) compound parts" }
        if let field = Field.allCases.first(where: { $0.exactSpace == space }) { return "\(field.name) word forms" }
        switch space {
        case Field.sourceSpace: return "outlets"
        case Field.dateSpace: return "days"
        default: return "space \(space)"
        }
    }
}
