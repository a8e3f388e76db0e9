import Foundation

/// What a commit wrote.
public struct CommitSummary: Sendable, Codable {
    /// Documents in the index after the commit (deleted ones not counted).
    public var documents: Int
    /// Documents this writer added (new or changed).
    public var added: Int
    /// Documents this writer deleted (withdrawn, or replaced by a changed version).
    public var deleted: Int
    /// Segments in the index after the commit.
    public var segments: Int
    /// Distinct field-terms, summed over segments.
    public var terms: Int
    /// Document-term pairs, summed over segments.
    public var postings: Int
    /// Bytes of all index files.
    public var bytes: Int
    /// The generation folder that became current (unchanged when there was nothing to commit).
    public var generation: String
    /// Whether every document was analyzed afresh with evidence from the whole corpus (a new
    /// index, `optimize()`, changed analyzer options, or an index that has doubled since).
    public var reanalyzed: Bool
}

/// Builds or updates the index in a directory; `commit()` makes the changes visible at once.
///
/// ```swift
/// let writer = try IndexWriter(directory: "Index")
/// try writer.add(Document(id: "a1", title: "Neue Sanktionen", body: "…"))
/// try writer.commit()
/// ```
///
/// An index is a list of immutable segments, with deletion marks, that share one analysis
/// dictionary (the compound lexicon and proper names, gathered from the corpus). `.replace` makes
/// a new index of what is added; `.update` adds to the existing one: new documents go to a new
/// segment, a document whose id is indexed already replaces it when its content changed (and is
/// skipped when not), `delete(id:)` marks one deleted. Small segments are merged ten at a time,
/// so an index has a number of segments logarithmic in its size. BM25 statistics are summed over
/// segments, so rankings do not depend on how the documents were split into commits.
///
/// The analysis dictionary is gathered afresh from every document (which are analyzed again
/// from the stored text) when the index has doubled since it was gathered, when the analyzer
/// options change, and on `optimize()`; in between, new documents are read with the index's.
///
/// The index in the directory stays unchanged until the commit completes; one writer per
/// directory at a time (a lock).
public final class IndexWriter {
    /// What the writer does with the index already in the directory.
    public enum Mode: Sendable {
        /// Builds a new index of the documents added; the old one is replaced at the commit.
        case replace
        /// Adds to, replaces in and deletes from the existing index (a new one if there is none).
        case update
    }

    /// What `add` did with a document.
    public enum AddOutcome: Sendable, Equatable {
        /// A new id: added.
        case added
        /// An indexed id with other content: the old version is deleted, this one added.
        case replaced
        /// An indexed id with the same content: nothing to do.
        case unchanged
        /// An id this writer was already given: skipped.
        case duplicate
    }

    /// The index directory written to.
    public let directory: String
    /// The analyzer stages used for every document (recorded in the index for queries).
    public let options: AnalyzerOptions
    /// Threads that analyze documents and split compounds.
    public let threads: Int
    /// Segments of at most this many documents are merged when this many share a size (a power
    /// of ten) at the end of the index.
    public var mergeFactor = 10

    /// Held from creation until the writer is released: one writer per index directory.
    private let lock: IndexLock
    /// The generation being written: its temporary folder (removed unless committed) and name.
    private let generation: (temporary: String, name: String)
    /// The index updated (nil: a new index).
    private let base: IndexReader?
    /// The base's live documents by id.
    private var live: [String: (doc: Int, fingerprint: UInt64)] = [:]
    /// Base documents to mark deleted, by document number.
    private var deletions = Set<Int>()
    private var nextSegment: Int
    private let pending: SegmentWriter
    private var pendingIDs = Set<String>()
    private var committed = false

    /// Opens a writer for `directory`, which is created if missing. Throws `KidxError.locked`
    /// while another writer (in any process) has it. `threads` analyze and split in parallel.
    public init(directory: String, options: AnalyzerOptions = .default, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                mode: Mode = .replace) throws {
        lock = try IndexLock(directory: directory)
        self.directory = directory
        self.options = options
        self.threads = max(1, threads)
        let layout = IndexDirectory(path: directory)
        if mode == .update, try layout.currentGeneration() != nil {
            let base = try IndexReader(directory: directory)
            self.base = base
            live = try base.liveDocuments()
            nextSegment = base.manifest.nextSegment
        } else {
            base = nil
            nextSegment = 1
        }
        generation = try layout.prepareNewGeneration()
        pending = try SegmentWriter(folder: generation.temporary + "/" + Manifest.segmentName(nextSegment), options: options, threads: threads)
        nextSegment += 1
    }

    deinit {
        if !committed { try? FileManager.default.removeItem(atPath: generation.temporary) }
    }

    /// Documents added by this writer so far.
    public var documentCount: Int { pending.documentCount }

    /// Analyzes and adds a document.
    @discardableResult
    public func add(_ document: Document) throws -> AddOutcome {
        try add(contentsOf: [document])[0]
    }

    /// Analyzes documents on `threads` threads and adds them in order; says per document what
    /// was done.
    @discardableResult
    public func add(contentsOf documents: [Document]) throws -> [AddOutcome] {
        guard !committed else { throw KidxError.io(path: directory, reason: "this writer has committed; open a new one") }
        var outcomes: [AddOutcome] = []
        var kept: [Document] = []
        for document in documents {
            guard pendingIDs.insert(document.id).inserted else { outcomes.append(.duplicate); continue }
            if let old = live[document.id] {
                if old.fingerprint == document.fingerprint {
                    outcomes.append(.unchanged)
                    continue
                }
                deletions.insert(old.doc)
                live[document.id] = nil
                outcomes.append(.replaced)
            } else {
                outcomes.append(.added)
            }
            kept.append(document)
        }
        if !kept.isEmpty { try pending.add(contentsOf: kept) }
        return outcomes
    }

    /// Marks the indexed document with `id` deleted. Returns false when the index has none.
    @discardableResult
    public func delete(id: String) -> Bool {
        guard let old = live.removeValue(forKey: id) else { return false }
        deletions.insert(old.doc)
        return true
    }

    /// Deletes every indexed document whose id is not in `ids` and that this writer did not add
    /// (what a corpus no longer has). Returns how many.
    @discardableResult
    public func deleteDocuments(notIn ids: Set<String>) -> Int {
        let gone = live.keys.filter { !ids.contains($0) && !pendingIDs.contains($0) }
        for id in gone { delete(id: id) }
        return gone.count
    }

    /// Writes the changes into a new generation and makes it the current index. With nothing to
    /// change, the current generation stays. A writer commits once.
    @discardableResult
    public func commit() throws -> CommitSummary {
        try commit(reanalyzing: false)
    }

    /// Rewrites the index as one segment without deleted documents, every document analyzed
    /// afresh with evidence gathered from all of them (as a new build would), plus any changes
    /// made through this writer.
    @discardableResult
    public func optimize() throws -> CommitSummary {
        try commit(reanalyzing: true)
    }

    private func commit(reanalyzing forced: Bool) throws -> CommitSummary {
        guard !committed else { throw KidxError.io(path: directory, reason: "this writer has committed already; open a new one") }
        committed = true
        let folder = generation.temporary
        let analysisPath = folder + "/" + IndexFormat.Kind.analysis.fileName
        guard let base else {
            // A new index: the analysis is gathered from its documents.
            let (info, analysis) = try pending.finish(analysis: .gathered(path: analysisPath))
            return try publish(Manifest(formatVersion: Int(IndexFormat.version), analyzer: options, analysis: analysis!,
                                        segments: [.init(name: pendingName, documents: info.documentCount, deleted: 0)],
                                        nextSegment: nextSegment, created: Self.now()), added: info.documentCount, reanalyzed: true)
        }
        let added = pending.documentCount
        guard forced || added > 0 || !deletions.isEmpty || options != base.analyzerOptions else {
            committed = false  // nothing written: the writer may still be used
            return summary(of: base, added: 0, reanalyzed: false)
        }
        let liveAfter = base.documentCount - deletions.count + added
        if forced || options != base.analyzerOptions || liveAfter >= 2 * max(1, base.manifest.analysis.documents) {
            // Everything again, in document order, with evidence from all documents.
            var sources: [(SegmentReader, Set<Int>)] = base.segments.enumerated().map { segment, reader in
                (reader, Set(deletions.compactMap { $0 >= base.bases[segment] && $0 < base.bases[segment] + reader.documentCount ? $0 - base.bases[segment] : nil })
                    .union(reader.deletions?.marked ?? []))
            }
            if added > 0 {
                _ = try pending.finish(analysis: .shared(base.analysis))
                sources.append((try SegmentReader(folder: pending.folder, documents: added, deleted: 0), []))
            }
            let name = Manifest.segmentName(nextSegment)
            nextSegment += 1
            let (info, analysis) = try rewrite(sources, into: name, analysis: .gathered(path: analysisPath))
            try? FileManager.default.removeItem(atPath: pending.folder)
            let segments: [Manifest.Segment] = info.documentCount > 0 ? [.init(name: name, documents: info.documentCount, deleted: 0)] : []
            return try publish(Manifest(formatVersion: Int(IndexFormat.version), analyzer: options, analysis: analysis!,
                                        segments: segments, nextSegment: nextSegment, created: Self.now()),
                               added: added, reanalyzed: true)
        }

        // An update: the base's segments carried over with their new deletion marks, the new one appended.
        try IndexDirectory.linkFile(base.generation + "/" + IndexFormat.Kind.analysis.fileName, to: analysisPath)
        var segments: [(entry: Manifest.Segment, reader: SegmentReader?)] = []
        for (index, reader) in base.segments.enumerated() {
            var entry = base.manifest.segments[index]
            var marked = reader.deletions?.marked ?? []
            for doc in deletions where doc >= base.bases[index] && doc < base.bases[index] + reader.documentCount {
                marked.insert(doc - base.bases[index])
            }
            if marked.count == entry.documents { continue }  // nothing left
            try IndexDirectory.linkSegment(entry.name, from: base.generation, into: folder)
            if !marked.isEmpty {
                try DeletionMarks.write(marked, documents: entry.documents, to: folder + "/" + entry.name + "/" + IndexFormat.Kind.deletions.fileName)
            }
            entry.deleted = marked.count
            segments.append((entry, reader))
        }
        if added > 0 {
            let (info, _) = try pending.finish(analysis: .shared(base.analysis))
            segments.append((.init(name: pendingName, documents: info.documentCount, deleted: 0), nil))
        } else {
            try? FileManager.default.removeItem(atPath: pending.folder)
        }
        // Merges: a segment mostly deleted is rewritten; runs of `mergeFactor` segments of the same
        // size at the end become one.
        func size(_ entry: Manifest.Segment) -> Int { Int(log10(Double(max(1, entry.documents - entry.deleted)))) }
        func open(_ index: Int) throws -> SegmentReader {
            if let reader = segments[index].reader, segments[index].entry.deleted == reader.deletions.map({ $0.marked.count }) ?? 0 { return reader }
            let entry = segments[index].entry
            return try SegmentReader(folder: folder + "/" + entry.name, documents: entry.documents, deleted: entry.deleted)
        }
        func merge(_ range: Range<Int>) throws {
            let readers = try range.map { index -> (SegmentReader, Set<Int>) in
                let reader = try open(index)
                return (reader, reader.deletions?.marked ?? [])
            }
            let name = Manifest.segmentName(nextSegment)
            nextSegment += 1
            let (info, _) = try rewrite(readers, into: name, analysis: .shared(base.analysis))
            for index in range { try? FileManager.default.removeItem(atPath: folder + "/" + segments[index].entry.name) }
            segments.replaceSubrange(range, with: [(.init(name: name, documents: info.documentCount, deleted: 0), nil)])
        }
        for index in segments.indices.reversed() where segments[index].entry.deleted * 2 > segments[index].entry.documents {
            try merge(index..<(index + 1))
        }
        while let last = segments.last {
            let level = size(last.entry)
            var start = segments.count - 1
            while start > 0, size(segments[start - 1].entry) <= level { start -= 1 }
            guard segments.count - start >= mergeFactor else { break }
            try merge(start..<segments.count)
        }
        return try publish(Manifest(formatVersion: Int(IndexFormat.version), analyzer: options, analysis: base.manifest.analysis,
                                    segments: segments.map(\.entry), nextSegment: nextSegment, created: Self.now()),
                           added: added, reanalyzed: false)
    }

    private var pendingName: String { (pending.folder as NSString).lastPathComponent }

    /// Writes the live documents of `sources` (segments with the local numbers to leave out),
    /// analyzed again from their stored text, as one new segment.
    private func rewrite(_ sources: [(SegmentReader, Set<Int>)], into name: String,
                         analysis: SegmentWriter.Analysis) throws -> (segment: SegmentInfo, analysis: AnalysisInfo?) {
        let writer = try SegmentWriter(folder: generation.temporary + "/" + name, options: options, threads: threads)
        var batch: [Document] = []
        for (reader, dropped) in sources {
            try reader.store.forEach { doc, document in
                guard !dropped.contains(doc) else { return }
                batch.append(document)
                if batch.count == 256 {
                    try writer.add(contentsOf: batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
        }
        try writer.add(contentsOf: batch)
        return try writer.finish(analysis: analysis)
    }

    private func publish(_ manifest: Manifest, added: Int, reanalyzed: Bool) throws -> CommitSummary {
        try IndexDirectory.writeJSON(manifest, to: generation.temporary + "/" + IndexDirectory.manifestFile)
        try IndexDirectory(path: directory).publish(temporary: generation.temporary, name: generation.name)
        return summary(of: try IndexReader(directory: directory), added: added, reanalyzed: reanalyzed)
    }

    private func summary(of reader: IndexReader, added: Int, reanalyzed: Bool) -> CommitSummary {
        let statistics = reader.statistics()
        return CommitSummary(documents: statistics.documents, added: added, deleted: deletions.count, segments: statistics.segments,
                             terms: statistics.terms, postings: statistics.postings, bytes: statistics.files.values.reduce(0, +),
                             generation: statistics.generation, reanalyzed: reanalyzed)
    }

    private static func now() -> String { ISO8601DateFormatter().string(from: Date()) }
}
