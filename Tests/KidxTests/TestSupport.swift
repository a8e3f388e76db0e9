import Foundation
import Testing
@testable import Kidx

/// Paths and helpers shared by the tests.
enum TestSupport {
    /// The repository root (two levels above this file's folder).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `../shared` beside the repository: real German news for tests. A user's clone has none.
    static let shared = URL(fileURLWithPath: repositoryRoot).deletingLastPathComponent().appendingPathComponent("shared").path

    static var sharedIsAvailable: Bool { FileManager.default.fileExists(atPath: shared + "/corpus/seeds") }

    static let sharedMissing: Comment = "../shared is absent (a user's clone has none): skipped"

    /// The project's sample corpus.
    static let sampleCorpus = repositoryRoot + "/Corpus"

    /// A fresh, empty folder under the system's temporary folder.
    static func temporaryFolder(_ label: String = #function) throws -> String {
        let name = "kidx-test-\(label.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString.prefix(8))"
        let path = NSTemporaryDirectory() + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Builds an index of every document `CorpusReader` finds under `corpus`.
    @discardableResult
    static func buildIndex(of corpus: String, at index: String, options: AnalyzerOptions = .default) throws -> [CorpusProblem] {
        let writer = try IndexWriter(directory: index, options: options)
        var problems: [CorpusProblem] = []
        try CorpusReader(root: corpus).read({ document, _ in try writer.add(document) }, problem: { problems.append($0) })
        try writer.commit()
        return problems
    }

    /// Builds an index of `documents`.
    static func buildIndex(_ documents: [Document], at index: String) throws {
        let writer = try IndexWriter(directory: index)
        for document in documents { try writer.add(document) }
        try writer.commit()
    }

    /// The path of a file of the current generation of `index`: the analysis dictionary, or
    /// a file of the segment (the first by default).
    static func indexFile(_ index: String, _ kind: IndexFormat.Kind, segment: String = Manifest.segmentName(1)) throws -> String {
        let generation = try #require(try IndexDirectory(path: index).currentGeneration())
        return kind == .analysis ? generation + "/" + kind.fileName : generation + "/" + segment + "/" + kind.fileName
    }

    /// The first 2,000 FANG-COVID articles (nil without ../shared), read once.
    static let newsDocuments: [Document]? = {
        guard sharedIsAvailable else { return nil }
        var documents: [Document] = []
        struct Enough: Error {}
        do {
            try CorpusReader(root: shared + "/corpus/fang-covid-news.jsonl.gz").read({ document, _ in
                documents.append(document)
                if documents.count == 2_000 { throw Enough() }
            }, problem: { _ in })
        } catch is Enough {} catch { return nil }
        return documents
    }()

    /// An index of `newsDocuments`, built once.
    static let newsIndex: String? = {
        guard let documents = newsDocuments, let index = try? temporaryFolder("news") else { return nil }
        return (try? buildIndex(documents, at: index)) == nil ? nil : index
    }()

    /// An index of the shipped sample corpus, built once, for tests that only read it.
    static let sampleIndex: String? = {
        guard let index = try? temporaryFolder("sample") else { return nil }
        return (try? buildIndex(of: sampleCorpus, at: index)) == nil ? nil : index
    }()

    /// The ids of the hits of `query`, best first.
    static func ids(_ searcher: Searcher, _ query: String, limit: Int = 100, mode: SearchOptions.Mode = .any) throws -> [String] {
        try searcher.search(query, options: SearchOptions(limit: limit, mode: mode)).hits.compactMap { $0.document?.id }
    }
}
