import Foundation

/// A segment's description, stored as `segment.json` beside its binary files: the counts BM25
/// needs and each file's size.
struct SegmentInfo: Codable, Equatable {
    struct FieldStatistics: Codable, Equatable {
        /// Sum of the field's lengths (in word positions) over all documents.
        var totalLength: Int
    }

    struct FileInfo: Codable, Equatable {
        var name: String
        var bytes: Int
    }

    var formatVersion: Int
    var documentCount: Int
    var termCount: Int
    var postingCount: Int
    var fields: [String: FieldStatistics]
    var files: [FileInfo]
    var created: String

    /// Describes the segment whose files are written in `folder` (their sizes are read), and
    /// writes the description there as `segment.json`.
    static func write(folder: String, documentCount: Int, termCount: Int, postingCount: Int, totalLengths: [Int]) throws -> SegmentInfo {
        var files: [FileInfo] = []
        for kind in IndexFormat.Kind.segmentFiles {
            let size = (try FileManager.default.attributesOfItem(atPath: folder + "/" + kind.fileName)[.size] as? Int) ?? 0
            files.append(.init(name: kind.fileName, bytes: size))
        }
        let info = SegmentInfo(
            formatVersion: Int(IndexFormat.version), documentCount: documentCount, termCount: termCount, postingCount: postingCount,
            fields: Dictionary(uniqueKeysWithValues: Field.allCases.enumerated().map { ($1.name, .init(totalLength: totalLengths[$0])) }),
            files: files, created: ISO8601DateFormatter().string(from: Date()))
        try IndexDirectory.writeJSON(info, to: folder + "/" + IndexDirectory.segmentFile)
        return info
    }
}

/// What the analysis dictionary (`analysis.kdx`) was made from: the corpus-wide evidence for
/// compound parts and proper names. One for the whole index: every segment is analyzed with it,
/// so a word has the same terms in every segment and BM25 statistics add up across segments.
struct AnalysisInfo: Codable, Equatable {
    /// Documents the evidence was gathered from; when the index has grown to twice as many, the
    /// next commit gathers it afresh (see `IndexWriter`).
    var documents: Int
    /// Words in the decompounding lexicon.
    var lexiconWords: Int
    /// Proper names kept from the stemmer (see `ProperNames`).
    var names: Int
    /// The system word list the decompounder read, if any.
    var wordList: String?
    /// Corpus uses a word needs to count as a compound part.
    var partThresholds: GermanDecompounder.Thresholds
}

/// A generation's table of contents (`manifest.json`): its segments in document order, with
/// their deletion counts, the analyzer stages and the analysis evidence they share.
struct Manifest: Codable, Equatable {
    struct Segment: Codable, Equatable {
        /// The segment's folder inside the generation (`segment-000004`).
        var name: String
        /// Documents written to the segment, deleted or not.
        var documents: Int
        /// Documents marked deleted (in the segment's `deleted.kdx`, absent when 0).
        var deleted: Int
        /// True for a segment cut where the memory budget ran out: merges leave it alone.
        var full: Bool?
    }

    var formatVersion: Int
    var analyzer: AnalyzerOptions
    var analysis: AnalysisInfo
    var segments: [Segment]
    /// The number the next new segment takes.
    var nextSegment: Int
    var created: String

    /// Documents not deleted.
    var liveDocuments: Int { segments.reduce(0) { $0 + $1.documents - $1.deleted } }

    static func segmentName(_ number: Int) -> String { "segment-" + String(format: "%06d", number) }
}

/// The layout of an index directory and the atomic switch between its generations.
///
/// An index directory holds generation folders (`generation-000007/`) and a `CURRENT` file naming
/// the live one. A build writes a new generation under a temporary name, syncs it, renames it,
/// then replaces `CURRENT` by rename: a reader sees the old index or the new one, never a mix,
/// and an interrupted build leaves the old one in place.
struct IndexDirectory {
    let path: String
    static let currentFile = "CURRENT"
    static let segmentFile = "segment.json"
    static let manifestFile = "manifest.json"
    private static let prefix = "generation-"

    var currentPath: String { path + "/" + Self.currentFile }

    /// The live generation's folder, or nil when the directory has no index.
    func currentGeneration() throws -> String? {
        guard let data = FileManager.default.contents(atPath: currentPath) else { return nil }
        let name = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard name.hasPrefix(Self.prefix), !name.contains("/") else {
            throw KidxError.corruptIndex(file: Self.currentFile, reason: "does not name a generation")
        }
        return path + "/" + name
    }

    /// Generation folders present, finished or not.
    private func entries() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }

    /// A fresh temporary folder for a new generation and the name it will take when complete.
    /// The caller holds the writer's lock, so other temporary folders are left by killed
    /// writers: they are removed here, whether or not this writer will publish.
    func prepareNewGeneration() throws -> (temporary: String, name: String) {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for entry in entries() where entry.hasPrefix(Self.prefix) && entry.contains(".tmp-") {
            try? FileManager.default.removeItem(atPath: path + "/" + entry)
        }
        let numbers = entries().compactMap { name -> Int? in
            guard name.hasPrefix(Self.prefix) else { return nil }
            return Int(name.dropFirst(Self.prefix.count).prefix(while: \.isNumber))
        }
        let name = Self.prefix + String(format: "%06d", (numbers.max() ?? 0) + 1)
        let temporary = path + "/" + name + ".tmp-\(getpid())"
        try? FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        return (temporary, name)
    }

    /// Publishes a completed generation and removes the ones it replaces.
    func publish(temporary: String, name: String) throws {
        let final = path + "/" + name
        try Self.syncDirectory(temporary)
        guard rename(temporary, final) == 0 else { throw KidxError.io(path: final, reason: String(cString: strerror(errno))) }
        try Self.syncDirectory(path)
        let staged = currentPath + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: staged, contents: Data((name + "\n").utf8)) else {
            throw KidxError.io(path: staged, reason: "cannot write")
        }
        let descriptor = open(staged, O_RDONLY)
        if descriptor >= 0 { fsync(descriptor); close(descriptor) }
        guard rename(staged, currentPath) == 0 else { throw KidxError.io(path: currentPath, reason: String(cString: strerror(errno))) }
        try Self.syncDirectory(path)
        // Older generations (and leftovers of interrupted builds). Readers that mapped them keep
        // their view: unlinked files live on until unmapped.
        for entry in entries() where entry.hasPrefix(Self.prefix) && entry != name {
            try? FileManager.default.removeItem(atPath: path + "/" + entry)
        }
    }

    /// Puts segment `name` of the generation folder `from` into the generation folder `into`
    /// without copying: segment files are immutable, so the new generation hard-links them.
    /// Deletion marks stay behind (each generation writes its own).
    static func linkSegment(_ name: String, from: String, into: String) throws {
        let source = from + "/" + name, target = into + "/" + name
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        for file in IndexFormat.Kind.segmentFiles.map(\.fileName) + [segmentFile] {
            try linkFile(source + "/" + file, to: target + "/" + file)
        }
    }

    /// Hard-links `path` as `target`, copying where the file system cannot link.
    static func linkFile(_ path: String, to target: String) throws {
        if link(path, target) == 0 { return }
        do {
            try FileManager.default.copyItem(atPath: path, toPath: target)
        } catch {
            throw KidxError.io(path: target, reason: "cannot link or copy \(path): \(error.localizedDescription)")
        }
    }

    /// Writes `value` as pretty, key-sorted JSON to `path` and syncs it.
    static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard FileManager.default.createFile(atPath: path, contents: try encoder.encode(value)) else {
            throw KidxError.io(path: path, reason: "cannot write")
        }
        let descriptor = open(path, O_RDONLY)
        if descriptor >= 0 { fsync(descriptor); close(descriptor) }
    }

    static func syncDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { throw KidxError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        _ = fsync(descriptor)
    }
}
