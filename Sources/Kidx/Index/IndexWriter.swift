import Foundation
#if canImport(Glibc)
import Glibc
#endif

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
        /// Adds to, replaces in and deletes from the existing index (a new one if there is none,
        /// or if it has an older format).
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
    /// Segments are merged when this many share a size (a power of ten) at the end of the index.
    public var mergeFactor = 10
    /// About how many bytes a writer may use: it writes its postings out as a segment when they
    /// reach 60 % of it (writing one needs a little more again) (`kidx build --memory`). Peak
    /// memory stays near this whatever the corpus size.
    public var memoryBudget = IndexWriter.defaultMemoryBudget
    /// 256 MiB.
    public static let defaultMemoryBudget = 256 << 20

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
    private var pending: SegmentWriter
    private var pendingIDs = Set<String>()
    /// Segments written when the memory budget ran out, with the index's evidence (an update).
    private var flushed: [Manifest.Segment] = []
    /// Parts spilled when the memory budget ran out before the evidence was known (a new index),
    /// to be finished at the commit, and their words' uses.
    private var deferred: [Manifest.Segment] = []
    private var deferredUses: [String: (uses: Int, capitalized: Int)] = [:]
    /// The thread that compresses the stored documents of a build on more than one thread.
    private let compression: BackgroundCompression?
    /// The stored documents of the parts spilled, by part name, handed on to the writers that
    /// finish the parts: a part's store may still be compressing in the background until then.
    private var spilledStorage: [String: SegmentWriter.Storage] = [:]
    /// The store dictionary of the first part spilled, which the later parts use.
    private var partStoreDictionary: [UInt8]?
    /// Counts the field lengths of documents a merge drops.
    private lazy var lengthAnalyzer = GermanAnalyzer(options: options)
    private var committed = false
    private var published = false

    /// Opens a writer for `directory`, which is created if missing. Throws `KidxError.locked`
    /// while another writer (in any process) has it. `threads` analyze and split in parallel.
    /// `options` nil: the existing index's (with `.update`), or the defaults. Options that differ
    /// from the index's have every document analyzed afresh at the commit.
    public init(directory: String, options: AnalyzerOptions? = nil, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                mode: Mode = .replace) throws {
        lock = try IndexLock(directory: directory)
        self.directory = directory
        self.threads = max(1, threads)
        let layout = IndexDirectory(path: directory)
        // An index of an older format cannot be updated: it is replaced.
        if mode == .update, try layout.currentGeneration() != nil, let base = try Self.openUnlessOutdated(directory) {
            self.base = base
            live = try base.liveDocuments()
            nextSegment = base.manifest.nextSegment
        } else {
            base = nil
            nextSegment = 1
        }
        self.options = options ?? base?.analyzerOptions ?? .default
        generation = try layout.prepareNewGeneration()
        compression = self.threads > 1 ? BackgroundCompression() : nil
        do {
            pending = try SegmentWriter(folder: generation.temporary + "/" + Manifest.segmentName(nextSegment), options: self.options, threads: threads,
                                        compression: compression)
        } catch {
            compression?.stop()  // no deinit for a writer not made
            throw error
        }
        nextSegment += 1
    }

    private static func openUnlessOutdated(_ directory: String) throws -> IndexReader? {
        do {
            return try IndexReader(directory: directory)
        } catch KidxError.unsupportedFormat {
            return nil
        }
    }

    /// A writer for the next new segment of this generation. Once a part has been spilled, the
    /// next ones compress their stored documents with its dictionary.
    private func makeSegmentWriter() throws -> SegmentWriter {
        defer { nextSegment += 1 }
        return try SegmentWriter(folder: generation.temporary + "/" + Manifest.segmentName(nextSegment), options: options, threads: threads,
                                 storeDictionary: partStoreDictionary.map { .given($0) } ?? .trained, compression: compression)
    }

    /// Spills a part of a new index (see `SegmentWriter.spill()`), adding its word uses to `uses`.
    private func spill(_ writer: SegmentWriter, into parts: inout [Manifest.Segment], uses: inout [String: (uses: Int, capitalized: Int)]) throws {
        let name = Self.name(writer), documents = writer.documentCount
        let (partUses, storage) = try writer.spill()
        Self.add(partUses, to: &uses)
        spilledStorage[name] = storage
        parts.append(.init(name: name, documents: documents, deleted: 0, full: true))
        if partStoreDictionary == nil { partStoreDictionary = try storage?.dictionary() }
    }

    private static func name(_ writer: SegmentWriter) -> String { (writer.folder as NSString).lastPathComponent }

    deinit {
        // A generation not published (nothing to commit, a failed commit, no commit) is removed,
        // once the store compression has stopped writing into it.
        compression?.stop()
        if !published { try? FileManager.default.removeItem(atPath: generation.temporary) }
    }

    /// Documents added by this writer so far.
    public var documentCount: Int { (flushed + deferred).reduce(pending.documentCount) { $0 + $1.documents } }

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
        if isFull(pending) {
            let name = Self.name(pending), documents = pending.documentCount
            if let base {
                _ = try pending.finish(analysis: .shared(base.analysis))
                flushed.append(.init(name: name, documents: documents, deleted: 0, full: true))
            } else {
                try spill(pending, into: &deferred, uses: &deferredUses)
            }
            pending = try makeSegmentWriter()
        }
        return outcomes
    }

    /// Marks the indexed document with `id` deleted. Returns false when the index has none
    /// (documents added through this writer are not yet indexed).
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
        let added = documentCount
        func manifest(_ segments: [Manifest.Segment], _ analysis: AnalysisInfo) -> Manifest {
            Manifest(formatVersion: Int(IndexFormat.version), analyzer: options, analysis: analysis,
                     segments: segments, nextSegment: nextSegment, created: Self.now())
        }
        guard let base else {
            // A new index: the evidence is gathered from its documents.
            let (segments, analysis) = try finishGathering(deferred: deferred, uses: &deferredUses, last: pending)
            return try publish(manifest(segments, analysis), added: added, reanalyzed: true)
        }
        guard forced || added > 0 || !deletions.isEmpty || options != base.analyzerOptions else {
            committed = false  // nothing written: the writer may still be used
            return summary(of: base, added: 0, reanalyzed: false)
        }
        let liveAfter = base.documentCount - deletions.count + added
        if forced || options != base.analyzerOptions || liveAfter >= 2 * max(1, base.manifest.analysis.documents) {
            // Everything again, in document order, with evidence from all documents.
            var sources: [(DocumentStore, Set<Int>)] = base.segments.enumerated().map { segment, reader in
                let range = base.bases[segment]..<(base.bases[segment] + reader.documentCount)
                return (reader.store, Set(deletions.filter(range.contains).map { $0 - range.lowerBound }).union(reader.deletions?.marked ?? []))
            }
            try pending.finishStoreOnly()
            for segment in flushed + [.init(name: Self.name(pending), documents: pending.documentCount, deleted: 0)] where segment.documents > 0 {
                sources.append((try Self.store(folder + "/" + segment.name), []))
            }
            let (segments, analysis) = try rewriteGathering(sources)
            for segment in flushed { try? FileManager.default.removeItem(atPath: folder + "/" + segment.name) }
            try? FileManager.default.removeItem(atPath: pending.folder)
            return try publish(manifest(segments, analysis), added: added, reanalyzed: true)
        }

        // An update: the base's segments carried over with their new deletion marks, the new ones appended.
        try IndexDirectory.linkFile(base.generation + "/" + IndexFormat.Kind.analysis.fileName, to: folder + "/" + IndexFormat.Kind.analysis.fileName)
        var segments: [Manifest.Segment] = []
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
            segments.append(entry)
        }
        segments += flushed
        if pending.documentCount > 0 {
            let (info, _) = try pending.finish(analysis: .shared(base.analysis))
            segments.append(.init(name: Self.name(pending), documents: info.documentCount, deleted: 0))
        } else {
            try? FileManager.default.removeItem(atPath: pending.folder)
        }
        // Merges: a segment mostly deleted is rewritten without its deleted documents; runs of
        // `mergeFactor` segments of the same size at the end become one. Segments cut by the
        // memory budget stay as they are.
        func size(_ entry: Manifest.Segment) -> Int { Int(log10(Double(max(1, entry.documents - entry.deleted)))) }
        func merge(_ range: Range<Int>) throws {
            let name = Manifest.segmentName(nextSegment)
            nextSegment += 1
            let merged = try SegmentMerger.merge(segments[range].map { entry in
                try SegmentReader(folder: folder + "/" + entry.name, documents: entry.documents, deleted: entry.deleted)
            }, into: folder + "/" + name, threads: threads, fieldLengths: fieldLengths)
            for entry in segments[range] { try FileManager.default.removeItem(atPath: folder + "/" + entry.name) }
            segments.replaceSubrange(range, with: [.init(name: name, documents: merged.documentCount, deleted: 0)])
        }
        for index in segments.indices.reversed() where segments[index].deleted * 2 > segments[index].documents {
            try merge(index..<(index + 1))
        }
        while let last = segments.last, last.full != true {
            let level = size(last)
            var start = segments.count - 1
            while start > 0, segments[start - 1].full != true, size(segments[start - 1]) <= level { start -= 1 }
            guard segments.count - start >= mergeFactor else { break }
            try merge(start..<segments.count)
        }
        return try publish(manifest(segments, base.manifest.analysis), added: added, reanalyzed: false)
    }

    /// Adds word uses of one part of a corpus to those of others.
    private static func add(_ more: [String: (uses: Int, capitalized: Int)], to uses: inout [String: (uses: Int, capitalized: Int)]) {
        for (word, count) in more {
            uses[word, default: (0, 0)].uses += count.uses
            uses[word, default: (0, 0)].capitalized += count.capitalized
        }
    }

    /// The stored documents of a segment folder of this generation.
    private static func store(_ folder: String) throws -> DocumentStore {
        try DocumentStore(file: MappedIndexFile(path: folder + "/" + IndexFormat.Kind.store.fileName, kind: .store))
    }

    /// Documents analyzed together when a commit analyzes stored documents again: enough to
    /// keep every thread busy.
    private static let batchSize = 256

    /// The live documents of `sources` (stores with the numbers to leave out), in order, in
    /// batches.
    private static func forEachBatch(of sources: [(DocumentStore, Set<Int>)], _ body: ([Document]) throws -> Void) throws {
        var batch: [Document] = []
        for (store, dropped) in sources {
            try store.forEach { doc, document in
                guard !dropped.contains(doc) else { return }
                batch.append(document)
                if batch.count == batchSize {
                    try body(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
        }
        if !batch.isEmpty { try body(batch) }
    }

    /// Whether `writer` holds as much as it may before its postings are written out: 60 % of the
    /// budget, as writing them needs a little more again. A default-budget build of FANG peaks at
    /// 226 MiB in two parts, of four times FANG at 269 MiB (at 45 %: three parts and 211 MiB, and
    /// the two-part build is faster: each part repeats the stemming and splitting of its words).
    private func isFull(_ writer: SegmentWriter) -> Bool { writer.estimatedBytes > memoryBudget * 3 / 5 }

    /// A document's field lengths as the analyzer counts them (what BM25 normalizes by): a
    /// merge takes those of the documents it drops from the index-wide totals.
    private func fieldLengths(_ document: Document) -> [Int] {
        AnalyzedDocument(document, analyzer: lengthAnalyzer).fields.map(\.length)
    }

    /// Analyzes the documents of `sources` again with evidence gathered from all of them: spilled
    /// a budget's worth at a time, then each part's segment finished with the evidence.
    private func rewriteGathering(_ sources: [(DocumentStore, Set<Int>)]) throws -> ([Manifest.Segment], AnalysisInfo) {
        var deferred: [Manifest.Segment] = []
        var uses: [String: (uses: Int, capitalized: Int)] = [:]
        var writer = try makeSegmentWriter()
        try Self.forEachBatch(of: sources) { batch in
            try writer.add(contentsOf: batch)
            guard isFull(writer) else { return }
            try spill(writer, into: &deferred, uses: &uses)
            writer = try makeSegmentWriter()
        }
        return try finishGathering(deferred: deferred, uses: &uses, last: writer)
    }

    /// Gathers the evidence from the uses of the spilled parts' words and of `last`'s, writes
    /// the analysis dictionary, finishes every part's segment with it, and merges them into one.
    /// Without deferred parts, `last` gathers the evidence itself (one segment, as a build that
    /// fits the budget writes it).
    private func finishGathering(deferred: [Manifest.Segment], uses: inout [String: (uses: Int, capitalized: Int)],
                                 last: SegmentWriter) throws -> ([Manifest.Segment], AnalysisInfo) {
        let path = generation.temporary + "/" + IndexFormat.Kind.analysis.fileName
        guard !deferred.isEmpty else {
            let (info, analysis) = try last.finish(analysis: .gathered(path: path))
            return (info.documentCount > 0 ? [.init(name: Self.name(last), documents: info.documentCount, deleted: 0)] : [], analysis!)
        }
        // `last` is spilled too, so that its postings do not stay in memory beside the evidence;
        // the evidence structures (every word's uses, splits, names) are dropped once written.
        let parts = deferred + (last.documentCount > 0 ? [.init(name: Self.name(last), documents: last.documentCount, deleted: 0)] : [])
        let info: AnalysisInfo
        // Every word of the build is split once, here, for the names and for every part, and
        // the splits kept until the parts are written: split per part, a word used in several
        // parts was split in each, and the names' candidates once more (FANG on two threads,
        // alternating runs: 28.9 / 31.4 s before, 26.9 / 30.1 s after; four times FANG 116.8 s
        // and 274 MiB at the peak before, 105.6 s and 284 MiB after).
        var splits: Decompounding
        do {
            let (lastUses, storage) = try last.spill()
            Self.add(lastUses, to: &uses)
            if last.documentCount > 0 { spilledStorage[Self.name(last)] = storage }
            let evidence = SegmentWriter.gatherEvidence(uses: uses, documents: parts.reduce(0) { $0 + $1.documents }, options: options,
                                                        analyzer: GermanAnalyzer(options: options), threads: threads)
            try AnalysisDictionary.write(lexicon: evidence.decompounding.lexicon, names: evidence.names.entries, to: path)
            info = evidence.info
            splits = evidence.decompounding
            splits.removeLexicon()
        }
        uses = [:]
        let analysis = try AnalysisDictionary(path: path, info: info)
        for part in parts {
            Self.returnFreedMemory()
            let writer = try SegmentWriter(resuming: generation.temporary + "/" + part.name, storage: spilledStorage.removeValue(forKey: part.name),
                                           options: options, threads: threads)
            // Parts to be merged are not synced: the merge reads them and removes them.
            _ = try writer.finish(analysis: .shared(analysis, splits: splits), syncing: parts.count == 1)
        }
        splits = Decompounding()  // the splits' memory, before the merge
        if last.documentCount == 0 { try? FileManager.default.removeItem(atPath: last.folder) }
        // The parts become one segment, as a build within the budget writes it.
        guard parts.count > 1 else { return (parts, info) }
        Self.returnFreedMemory()
        let name = Manifest.segmentName(nextSegment)
        nextSegment += 1
        let merged = try SegmentMerger.merge(parts.map { part in
            try SegmentReader(folder: generation.temporary + "/" + part.name, documents: part.documents, deleted: 0)
        }, into: generation.temporary + "/" + name, threads: threads, fieldLengths: fieldLengths)
        for part in parts { try FileManager.default.removeItem(atPath: generation.temporary + "/" + part.name) }
        return ([.init(name: name, documents: merged.documentCount, deleted: 0, full: true)], info)
    }

    /// Hands memory freed by the heap back to the system. The evidence and each segment leave
    /// millions of small blocks freed in the heap, which malloc keeps and the next part cannot
    /// always reuse (peak of a 4x FANG build: 294 MiB with, 298 MiB without).
    static func returnFreedMemory() {
        _ = mallocTrim?(0)
    }

    /// glibc's `malloc_trim`, which Swift's Glibc module does not declare (nil elsewhere).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = dlsym(nil, "malloc_trim").map {
        unsafeBitCast($0, to: (@convention(c) (Int) -> Int32).self)
    }

    private func publish(_ manifest: Manifest, added: Int, reanalyzed: Bool) throws -> CommitSummary {
        try IndexDirectory.writeJSON(manifest, to: generation.temporary + "/" + IndexDirectory.manifestFile)
        try IndexDirectory(path: directory).publish(temporary: generation.temporary, name: generation.name)
        published = true
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
