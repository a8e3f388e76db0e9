import Foundation
import Testing
@testable import Kidx

@Suite("German compounds")
struct DecompounderTests {
    /// The lexicon a build on the first 12,000 FANG-COVID articles would have: their word counts
    /// and the system word list. Counted once (a while in a debug build) and shared; each test
    /// makes its own splitter from it, since an analyzer is not thread-safe and the suite's
    /// tests run in parallel.
    struct NewsLexicon {
        let frequencies: [String: Int]
        let systemWords: Set<String>?

        init(articles limit: Int) throws {
            let analyzer = GermanAnalyzer()
            var frequencies: [String: Int] = [:]
            var seen = 0
            struct Enough: Error {}
            do {
                try CorpusReader(root: TestSupport.shared + "/corpus/fang-covid-news.jsonl.gz").read({ document, _ in
                    var body = document.body
                    body.withUTF8 { utf8 in
                        analyzer.forEachWord(inUTF8: utf8) { word, _, _, _ in frequencies[String(decoding: word, as: UTF8.self), default: 0] += 1 }
                    }
                    seen += 1
                    if seen == limit { throw Enough() }
                }, problem: { _ in })
            } catch is Enough {}
            self.frequencies = frequencies
            systemWords = SystemWordList.load(folding: analyzer)
        }

        /// A splitter of its own (analyzer and decompounder) over this lexicon.
        func splitter() -> CompoundSplitter {
            let decompounder = GermanDecompounder(
                wordEvidence: { word in frequencies[word].map { WordEvidence(frequency: $0, known: systemWords?.contains(word) ?? false) } },
                hasWordList: systemWords != nil,
                thresholds: GermanDecompounder.Thresholds(corpusWords: frequencies.values.reduce(0, +)))
            return CompoundSplitter(analyzer: GermanAnalyzer(), decompounder: decompounder)
        }
    }

    static let newsLexicon12k: NewsLexicon? = TestSupport.sharedIsAvailable ? try? NewsLexicon(articles: 12_000) : nil

    static let gold: String = {
        let url = Bundle.module.url(forResource: "compounds-gold", withExtension: "tsv", subdirectory: "Resources")!
        return try! String(contentsOf: url, encoding: .utf8)
    }()

    @Test("splitting accuracy on the gold list of real compounds and hard negatives",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func goldList() throws {
        let report = try #require(Self.newsLexicon12k).splitter().evaluate(goldList: Self.gold)
        print(String(format: "compound splitting (12,000 FANG articles as lexicon): exact %.1f %% of %d compounds, false splits %.1f %% of %d negatives",
                     report.accuracy * 100, report.compounds, report.falseSplitRate * 100, report.negatives))
        #expect(report.compounds >= 300 && report.negatives >= 90)
        #expect(report.accuracy >= 0.80)
        #expect(report.falseSplitRate <= 0.30)
    }

    @Test("the issue's examples split as expected, and hard negatives stay whole",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func examples() throws {
        let splitter = try #require(Self.newsLexicon12k).splitter()
        #expect(splitter.split("Bundesregierung") == splitter.terms(of: ["bund", "regierung"]))
        #expect(splitter.split("Atomwaffentests") == splitter.terms(of: ["atom", "waffe", "test"]))
        #expect(splitter.split("Impfstoffmangel") == splitter.terms(of: ["impfen", "stoff", "mangel"]))
        for word in ["Mitgliedschaft", "notieren", "Sanktion", "Verantwortung", "Regierung"] {
            #expect(splitter.split(word) == nil, "\(word) must not be split")
        }
    }

    /// An index of a few sentences with a shared vocabulary, so the lexicon knows the parts.
    private static func compoundIndex() throws -> (Searcher, String) {
        let index = try TestSupport.temporaryFolder("compounds")
        try TestSupport.buildIndex([
            Document(id: "trikot", title: "Trikot", body: "Das Trikot der Mannschaft ist grün. Der Fußball rollt wieder."),
            Document(id: "fussballtrikot", title: "Versteigerung", body: "Ein signiertes Fußballtrikot bringt 1.200 Euro."),
            Document(id: "ganz", title: "Impfstoffmangel", body: "Der Impfstoffmangel trifft die Praxen. Impfstoff fehlt überall."),
            // `fern` is the shorter text: its parts alone outscore `nah`'s, so only their nearness
            // puts `nah` first.
            Document(id: "nah", title: "Rückblick", body: "Der Mangel an Impfstoff war im Winter in allen Praxen des Landes groß."),
            Document(id: "fern", title: "Lager", body: "Impfstoff lag bereit. Viel später, an einem anderen Ort, herrschte Mangel."),
            Document(id: "pandemie-bindestrich", title: "Eins", body: "Die Corona-Pandemie verändert den Alltag."),
            Document(id: "pandemie-zusammen", title: "Zwei", body: "Die Coronapandemie verändert die Arbeit."),
            Document(id: "pandemie-getrennt", title: "Drei", body: "Die Corona Pandemie verändert die Schule."),
            Document(id: "pandemie-worte", title: "Vier", body: "Corona und die Pandemie: ein Wort zur Lage der Pandemie."),
        ], at: index)
        return (Searcher(reader: try IndexReader(directory: index)), index)
    }

    @Test("a part finds compounds that contain it, ranked below exact matches")
    func partFindsCompound() throws {
        let (searcher, index) = try Self.compoundIndex()
        defer { try? FileManager.default.removeItem(atPath: index) }
        let ids = try TestSupport.ids(searcher, "Trikot")
        #expect(ids.first == "trikot")
        #expect(ids.contains("fussballtrikot"))
    }

    @Test("a compound finds its parts near each other; the whole compound ranks first, scattered parts last")
    func compoundFindsParts() throws {
        let (searcher, index) = try Self.compoundIndex()
        defer { try? FileManager.default.removeItem(atPath: index) }
        let ids = try TestSupport.ids(searcher, "Impfstoffmangel")
        #expect(ids.prefix(2) == ["ganz", "nah"])
        #expect(ids.firstIndex(of: "nah")! < ids.firstIndex(of: "fern") ?? ids.count)
    }

    @Test("Corona-Pandemie, Coronapandemie and Corona Pandemie all meet")
    func spellingsMeet() throws {
        let (searcher, index) = try Self.compoundIndex()
        defer { try? FileManager.default.removeItem(atPath: index) }
        let spellings: Set = ["pandemie-bindestrich", "pandemie-zusammen", "pandemie-getrennt"]
        for query in ["Corona-Pandemie", "Coronapandemie", "Corona Pandemie"] {
            let found = Set(try TestSupport.ids(searcher, query))
            #expect(found.isSuperset(of: spellings), "\(query) found \(found)")
        }
    }

    @Test("snippets mark the part that matched inside a compound")
    func highlightInsideCompound() throws {
        let (searcher, index) = try Self.compoundIndex()
        defer { try? FileManager.default.removeItem(atPath: index) }
        let hit = try #require(try searcher.search("Trikot").hits.first { $0.document?.id == "fussballtrikot" })
        let snippet = try #require(hit.snippet)
        let bytes = Array(snippet.text.utf8)
        #expect(snippet.highlights.map { String(decoding: bytes[$0], as: UTF8.self) } == ["trikot"])
    }
}

@Suite("Strong key")
struct StrongKeyTests {
    @Test("über and Uber share a stem but not the exact form: each query ranks its own spelling first")
    func uberIsNotUeber() throws {
        let analyzer = GermanAnalyzer()
        let ueber = try #require(analyzer.tokens(of: "über").first), uber = try #require(analyzer.tokens(of: "Uber").first)
        #expect(ueber.term == uber.term)
        #expect(ueber.word != uber.word)
        let index = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: index) }
        try TestSupport.buildIndex([
            Document(id: "fahrdienst", title: "Fahrdienst", body: "Der Fahrdienst Uber startet in Köln einen neuen Dienst."),
            Document(id: "debatte", title: "Debatte", body: "Der Rat debattiert über einen neuen Dienst in Köln."),
        ], at: index)
        let searcher = Searcher(reader: try IndexReader(directory: index))
        #expect(try TestSupport.ids(searcher, "Uber Köln").first == "fahrdienst")
        #expect(try TestSupport.ids(searcher, "über Köln").first == "debatte")
    }
}
