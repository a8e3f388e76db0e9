import ArgumentParser
import Foundation
import Kidx

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Index a folder of German news articles (.txt, .md, .jsonl, .jsonl.gz).",
        discussion: "Writes a new index generation and switches to it only when complete, so an interrupted build leaves the previous index usable.")

    @Argument(help: "The corpus folder (or a single file).")
    var corpus: String

    @OptionGroup var indexOptions: IndexOptions

    @Flag(name: .long, help: "Print the summary as JSON.")
    var json = false

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

    @Option(name: .long, help: "Threads that analyze documents and split compounds (default: every core).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Flag(name: .long, help: "Drop titles and index bodies only (for known-item evaluation).")
    var noTitles = false

    @Flag(name: .long, help: ArgumentHelp("Print the PEER-RESULT line the ../shared/peers harness reads.", visibility: .hidden))
    var peerResult = false

    /// Documents analyzed together: enough to keep every thread busy, few enough to hold.
    static let batchSize = 256

    func run() throws {
        try reportingErrors {
            guard let stemmerKind = AnalyzerOptions.Stemmer(rawValue: stemmer) else {
                throw KidxError.badQuery("unknown stemmer \(stemmer) (snowball or light)")
            }
            let options = AnalyzerOptions(stemming: !noStemming, stemmer: stemmerKind, removeStopWords: removeStopWords, spellingVariants: !noVariants,
                                          decompounding: !noDecompounding, protectNames: !noNameProtection)
            let writer = try IndexWriter(directory: indexOptions.index, options: options, threads: threads)
            let reader = CorpusReader(root: corpus)
            var problems: [CorpusProblem] = []
            var textBytes = 0
            let start = Date()
            var lastProgress = start
            // Documents go to the writer in batches, which its threads analyze together.
            var batch: [(document: Document, location: CorpusLocation)] = []
            func flush() throws {
                let added = try writer.add(contentsOf: batch.map(\.document))
                for (entry, isNew) in zip(batch, added) where !isNew {
                    let problem = CorpusProblem(entry.location, reason: "duplicate document id \(entry.document.id), this later copy skipped")
                    problems.append(problem)
                    Terminal.endProgress()
                    Terminal.note("skipped \(problem)")
                }
                batch.removeAll(keepingCapacity: true)
                let now = Date()
                if now.timeIntervalSince(lastProgress) > 0.2 {
                    lastProgress = now
                    let rate = Double(writer.documentCount) / max(now.timeIntervalSince(start), 0.001)
                    Terminal.progress("indexing: \(Terminal.grouped(writer.documentCount)) documents (\(Terminal.grouped(Int(rate))) docs/s)")
                }
            }
            try reader.read({ document, location in
                var document = document
                if noTitles { document.title = "" }
                textBytes += document.title.utf8.count + document.body.utf8.count
                batch.append((document, location))
                if batch.count == Self.batchSize { try flush() }
            }, problem: { problem in
                problems.append(problem)
                Terminal.endProgress()
                Terminal.note("skipped \(problem)")
            })
            try flush()
            guard writer.documentCount > 0 else { throw KidxError.emptyCorpus(path: corpus) }
            Terminal.progress("writing index: \(Terminal.grouped(writer.documentCount)) documents")
            let indexStart = Date()
            let summary = try writer.commit()
            Terminal.endProgress()
            let seconds = Date().timeIntervalSince(start)
            if json {
                Terminal.printJSON([
                    "documents": summary.documents, "terms": summary.terms, "postings": summary.postings,
                    "bytes": summary.bytes, "seconds": seconds, "skipped": problems.count,
                    "problems": problems.map(\.description), "index": indexOptions.index, "generation": summary.generation,
                ] as [String: Any])
            } else {
                print("indexed \(Terminal.grouped(summary.documents)) documents into \(indexOptions.index) in \(String(format: "%.1f", seconds)) s: \(Terminal.grouped(summary.terms)) terms, \(Terminal.grouped(summary.postings)) postings, \(Terminal.grouped(summary.bytes)) bytes")
                if !problems.isEmpty { print("skipped \(problems.count) file(s) or line(s); see the messages above") }
            }
            // For ../shared/peers: the in-process figure it reads from build output.
            if peerResult {
                let peer: [String: Any] = ["index_s": seconds, "docs": summary.documents, "text_bytes": textBytes, "commit_s": Date().timeIntervalSince(indexStart)]
                let data = try JSONSerialization.data(withJSONObject: peer, options: [.sortedKeys])
                print("PEER-RESULT " + String(decoding: data, as: UTF8.self))
            }
        }
    }
}
