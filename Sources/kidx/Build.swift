import ArgumentParser
import Foundation
import Kidx

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Index a folder of German news articles (.txt, .md, .jsonl, .jsonl.gz).",
        discussion: """
            On an existing index, indexes only documents that are new or changed (by id and content) and deletes \
            those the corpus no longer has; --rebuild makes a new index. The previous index stays usable until the \
            new state is complete.
            """)

    @Argument(help: "The corpus folder (or a single file).")
    var corpus: String

    @OptionGroup var indexOptions: IndexOptions

    @Flag(name: .long, help: "Print the summary as JSON.")
    var json = false

    @Flag(name: .long, help: "Build a new index even where one exists.")
    var rebuild = false

    @Flag(name: .long, help: "Leave out stemming (for measuring what it contributes).")
    var noStemming = false

    @Flag(name: .long, help: "Leave out German stop words (a smaller index; lower ranking quality, as measured).")
    var removeStopWords = false

    @Flag(name: .long, help: "Leave out ae/oe/ue = ä/ö/ü folding.")
    var noVariants = false

    @Option(name: .long, help: "The stemmer: snowball or light.")
    var stemmer = "snowball"

    @Flag(name: .long, help: "Leave out compound splitting.")
    var noDecompounding = false

    @Flag(name: .long, help: "Stem proper names like other words (for measuring what keeping them whole contributes).")
    var noNameProtection = false

    @OptionGroup var writerOptions: WriterOptions

    @Flag(name: .long, help: "Drop titles and index bodies only (for known-item evaluation).")
    var noTitles = false

    @Flag(name: .long, help: ArgumentHelp("Print the PEER-RESULT line the ../shared/peers harness reads.", visibility: .hidden))
    var peerResult = false

    func run() throws {
        try reportingErrors {
            guard let stemmerKind = AnalyzerOptions.Stemmer(rawValue: stemmer) else {
                throw KidxError.badQuery("unknown stemmer \(stemmer) (snowball or light)")
            }
            let options = AnalyzerOptions(stemming: !noStemming, stemmer: stemmerKind, removeStopWords: removeStopWords, spellingVariants: !noVariants,
                                          decompounding: !noDecompounding, protectNames: !noNameProtection)
            let start = Date()
            let writer = try writerOptions.writer(indexOptions.index, options: options, mode: rebuild ? .replace : .update)
            var feeder = DocumentFeeder(writer: writer)
            try feeder.read(corpus) { document in
                if noTitles { document.title = "" }
            }
            guard !feeder.seenIDs.isEmpty else { throw KidxError.emptyCorpus(path: corpus) }
            let removed = writer.deleteDocuments(notIn: feeder.seenIDs)
            Terminal.progress("writing index: \(Terminal.grouped(writer.documentCount)) documents")
            let indexStart = Date()
            let summary = try writer.commit()
            Terminal.endProgress()
            let seconds = Date().timeIntervalSince(start)
            feeder.report(summary, seconds: seconds, index: indexOptions.index, json: json, extra: ["removed": removed])
            // For ../shared/peers: the in-process figure it reads from build output.
            if peerResult {
                let peer: [String: Any] = ["index_s": seconds, "docs": summary.documents, "text_bytes": feeder.textBytes,
                                           "commit_s": Date().timeIntervalSince(indexStart)]
                let data = try JSONSerialization.data(withJSONObject: peer, options: [.sortedKeys])
                print("PEER-RESULT " + String(decoding: data, as: UTF8.self))
            }
        }
    }
}

/// Options of every command that writes an index.
struct WriterOptions: ParsableArguments {
    @Option(name: .long, help: "Threads that parse JSON lines, analyze documents and split compounds (default: every core).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .long, help: "Memory budget in MiB: postings are written out as a part at 60 % of it; the parts are merged at the end.")
    var memory = IndexWriter.defaultMemoryBudget >> 20

    /// A writer of the index at `index` with these options.
    func writer(_ index: String, options: AnalyzerOptions? = nil, mode: IndexWriter.Mode) throws -> IndexWriter {
        // One malloc arena for all threads: documents are analyzed on other threads and their
        // words freed on the writer's, and with an arena per thread that memory stayed with the
        // analyzing threads (FANG build peak 286 MiB; with one arena 244 MiB, as fast).
        if threads > 1, let mallopt = dlsym(nil, "mallopt") {  // glibc's, which Swift's Glibc does not declare
            let mArenaMax: Int32 = -8
            _ = unsafeBitCast(mallopt, to: (@convention(c) (Int32, Int32) -> Int32).self)(mArenaMax, 1)
        }
        let writer = try IndexWriter(directory: index, options: options, threads: threads, mode: mode)
        writer.memoryBudget = max(1, memory) << 20
        return writer
    }
}

/// Reads corpus files and hands their documents to a writer in batches, which its threads
/// analyze together; reports problems and progress on the way and the outcome at the end.
struct DocumentFeeder {
    /// Documents analyzed together: enough to keep every thread busy, few enough to hold.
    static let batchSize = 256

    let writer: IndexWriter
    private(set) var problems: [CorpusProblem] = []
    private(set) var textBytes = 0
    /// Every id read (duplicates once).
    private(set) var seenIDs = Set<String>()
    private(set) var counts: [IndexWriter.AddOutcome: Int] = [:]
    private let start = Date()
    private var lastProgress = Date()

    init(writer: IndexWriter) { self.writer = writer }

    /// Reads the corpus at `path` (a folder or file), `adjust` changing each document first.
    mutating func read(_ path: String, adjust: (inout Document) -> Void = { _ in }) throws {
        var batch: [(document: Document, location: CorpusLocation)] = []
        func flush(_ feeder: inout DocumentFeeder) throws {
            let outcomes = try feeder.writer.add(contentsOf: batch.map(\.document))
            for (entry, outcome) in zip(batch, outcomes) {
                feeder.counts[outcome, default: 0] += 1
                guard outcome == .duplicate else { continue }
                feeder.problem(CorpusProblem(entry.location, reason: "duplicate document id \(entry.document.id), this later copy skipped"))
            }
            batch.removeAll(keepingCapacity: true)
            let now = Date()
            if now.timeIntervalSince(feeder.lastProgress) > 0.2 {
                feeder.lastProgress = now
                let read = feeder.counts.values.reduce(0, +)
                let rate = Double(read) / max(now.timeIntervalSince(feeder.start), 0.001)
                Terminal.progress("indexing: \(Terminal.grouped(read)) documents read, \(Terminal.grouped(feeder.writer.documentCount)) to index (\(Terminal.grouped(Int(rate))) docs/s)")
            }
        }
        var problems: [CorpusProblem] = []
        try CorpusReader(root: path, threads: writer.threads).read({ document, location in
            var document = document
            adjust(&document)
            textBytes += document.title.utf8.count + document.body.utf8.count
            seenIDs.insert(document.id)
            batch.append((document, location))
            if batch.count == Self.batchSize { try flush(&self) }
        }, problem: { problems.append($0) })
        try flush(&self)
        for problem in problems { self.problem(problem) }
    }

    private mutating func problem(_ problem: CorpusProblem) {
        problems.append(problem)
        Terminal.endProgress()
        Terminal.note("skipped \(problem)")
    }

    /// Prints what a commit did, as a sentence or as JSON.
    func report(_ summary: CommitSummary, seconds: Double, index: String, json: Bool, extra: [String: Int] = [:]) {
        let unchanged = counts[.unchanged] ?? 0, replaced = counts[.replaced] ?? 0
        if json {
            var object: [String: Any] = [
                "documents": summary.documents, "added": summary.added, "replaced": replaced, "unchanged": unchanged,
                "deleted": summary.deleted, "segments": summary.segments, "reanalyzed": summary.reanalyzed,
                "terms": summary.terms, "postings": summary.postings, "bytes": summary.bytes, "seconds": seconds,
                "skipped": problems.count, "problems": problems.map(\.description), "index": index, "generation": summary.generation,
            ]
            for (key, value) in extra { object[key] = value }
            Terminal.printJSON(object)
            return
        }
        var changes = "\(Terminal.grouped(summary.added)) indexed"
        if replaced > 0 { changes += " (\(Terminal.grouped(replaced)) changed)" }
        if unchanged > 0 { changes += ", \(Terminal.grouped(unchanged)) unchanged" }
        if summary.deleted > 0 { changes += ", \(Terminal.grouped(summary.deleted)) deleted" }
        print("\(index): \(Terminal.grouped(summary.documents)) documents in \(summary.segments) segment\(summary.segments == 1 ? "" : "s") (\(changes)) in \(String(format: "%.1f", seconds)) s: \(Terminal.grouped(summary.terms)) terms, \(Terminal.grouped(summary.postings)) postings, \(Terminal.grouped(summary.bytes)) bytes\(summary.reanalyzed ? ", all analyzed afresh" : "")")
        if !problems.isEmpty { print("skipped \(problems.count) file(s) or line(s); see the messages above") }
    }
}

/// `kidx add`: indexes documents into an existing index (or a new one), replacing changed ones.
struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add documents (files or folders) to the index; a document with an indexed id replaces it.")

    @Argument(help: "Files or folders of documents.")
    var paths: [String]

    @OptionGroup var indexOptions: IndexOptions

    @Flag(name: .long, help: "Print the summary as JSON.")
    var json = false

    @OptionGroup var writerOptions: WriterOptions

    func run() throws {
        try reportingErrors {
            let start = Date()
            let writer = try writerOptions.writer(indexOptions.index, mode: .update)
            var feeder = DocumentFeeder(writer: writer)
            for path in paths { try feeder.read(path) }
            guard !feeder.seenIDs.isEmpty else { throw KidxError.emptyCorpus(path: paths.joined(separator: " ")) }
            let summary = try writer.commit()
            Terminal.endProgress()
            feeder.report(summary, seconds: Date().timeIntervalSince(start), index: indexOptions.index, json: json)
        }
    }
}

/// `kidx delete`: withdraws documents by id.
struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete documents from the index by id.")

    @Argument(help: "Document ids.")
    var ids: [String]

    @OptionGroup var indexOptions: IndexOptions

    @Flag(name: .long, help: "Print the summary as JSON.")
    var json = false

    func run() throws {
        try reportingErrors {
            _ = try IndexReader(directory: indexOptions.index)  // refuses a missing index
            let writer = try IndexWriter(directory: indexOptions.index, mode: .update)
            let missing = ids.filter { !writer.delete(id: $0) }
            let summary = try writer.commit()
            if json {
                Terminal.printJSON(["documents": summary.documents, "deleted": summary.deleted, "missing": missing,
                                    "segments": summary.segments, "generation": summary.generation] as [String: Any])
            } else {
                for id in missing { Terminal.note("no document with id \(id)") }
                print("\(indexOptions.index): deleted \(summary.deleted), \(Terminal.grouped(summary.documents)) documents left in \(summary.segments) segment\(summary.segments == 1 ? "" : "s")")
            }
            if !missing.isEmpty { throw ExitCode(1) }
        }
    }
}

/// `kidx optimize`: one segment, deletions purged, analysis evidence gathered afresh.
struct Optimize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimize",
        abstract: "Merge the index into one segment (as few as the memory budget allows), dropping deleted documents and analyzing every document afresh.")

    @OptionGroup var indexOptions: IndexOptions

    @Flag(name: .long, help: "Print the summary as JSON.")
    var json = false

    @OptionGroup var writerOptions: WriterOptions

    func run() throws {
        try reportingErrors {
            let start = Date()
            let reader = try IndexReader(directory: indexOptions.index)  // refuses a missing index
            let writer = try writerOptions.writer(indexOptions.index, mode: .update)
            Terminal.progress("optimizing \(Terminal.grouped(reader.documentCount)) documents")
            let summary = try writer.optimize()
            Terminal.endProgress()
            if json {
                Terminal.printJSON(["documents": summary.documents, "segments": summary.segments, "bytes": summary.bytes,
                                    "seconds": Date().timeIntervalSince(start), "generation": summary.generation] as [String: Any])
            } else {
                print("\(indexOptions.index): \(Terminal.grouped(summary.documents)) documents in \(summary.segments) segment\(summary.segments == 1 ? "" : "s"), \(Terminal.grouped(summary.bytes)) bytes, in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
            }
        }
    }
}
