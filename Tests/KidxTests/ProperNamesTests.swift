import Foundation
import Testing
@testable import Kidx

@Suite("Proper names kept from the stemmer")
struct ProperNamesTests {
    @Test("a capitalized word the word list lacks is a name; verbs, listed words and compounds are not")
    func findsNames() {
        let words: [String: (uses: Int, capitalized: Int)] = [
            "söder": (40, 40), "söders": (5, 5), "drosten": (30, 29), "laufen": (50, 3),
            "regierung": (80, 80), "coronaregeln": (12, 12), "merkel": (60, 60), "merkels": (9, 9),
            "hauser": (7, 7), "häuser": (20, 20), "krafte": (2, 2), "schüle": (4, 4), "schule": (30, 30), "regierungs": (3, 3),
        ]
        let analyzer = GermanAnalyzer()
        let names = ProperNames(words: words, systemWords: ["regierung", "laufen", "regel", "corona", "häuser", "kräfte", "schule"], compounds: { Set($0.filter { $0 == "coronaregeln" }) },
                                stem: analyzer.term(ofWord:))
        let term = { (word: String) in names.term(of: Array(word.utf8)).map { String(decoding: $0, as: UTF8.self) } }
        #expect(term("söder") == "soder")
        #expect(term("söders") == "soder")
        #expect(term("soder") == "soder")  // as written without the umlaut
        #expect(term("drosten") == "drosten")
        #expect(term("laufen") == nil)
        #expect(term("regierung") == nil)
        #expect(term("coronaregeln") == nil)
        // Without umlauts the name `Hauser` reads like `Häuser`, a misspelt `Krafte` like
        // `Kräfte`, the name `Schüle` like `Schule`: the listed words keep their stems.
        #expect(term("hauser") == nil && term("häuser") == nil && term("krafte") == nil)
        #expect(term("schüle") == nil && term("schule") == nil)
        #expect(term("regierungs") == nil)  // `Regierungs-` before a hyphen
        // The stemmer already leaves `merkel` whole and strips the genitive: nothing to record.
        #expect(term("merkel") == nil && term("merkels") == nil)
        #expect(names.entries.map(\.key) == names.entries.map(\.key).sorted { $0.lexicographicallyPrecedes($1) })

        let withoutList = ProperNames(words: words, systemWords: nil, compounds: { _ in [] }, stem: analyzer.term(ofWord:))
        #expect(withoutList.entries.isEmpty)
    }

    @Test("on real news, names keep their form in the index and in queries, nouns are still stemmed",
          .enabled(if: TestSupport.sharedIsAvailable && SystemWordList.path != nil, TestSupport.sharedMissing))
    func realNews() throws {
        let index = try #require(TestSupport.newsIndex)
        let documents = try #require(TestSupport.newsDocuments)
        let reader = try IndexReader(directory: index)
        let analyzer = reader.makeAnalyzer()
        // Snowball alone reads these as sod, drost, wiel, kretschm, bid, tonni.
        let expected = ["Söder": "soder", "Söders": "soder", "Soeder": "soder", "Drosten": "drosten", "Drostens": "drosten",
                        "Wieler": "wieler", "Kretschmer": "kretschmer", "Biden": "biden", "Tönnies": "tonnies"]
        for (word, term) in expected {
            #expect(analyzer.queryTerms(of: word) == [term], "\(word)")
        }
        #expect(analyzer.queryTerms(of: "Sanktionen") == ["sanktion"])
        #expect(analyzer.queryTerms(of: "Impfstoffe") == analyzer.queryTerms(of: "Impfstoff"))

        // A name finds the articles that write it, in any case, with or without genitive s,
        // and nothing else.
        let searcher = Searcher(reader: reader)
        func textOf(_ id: String) -> String {
            documents.first { $0.id == id }.map { $0.title + " " + $0.body } ?? ""
        }
        let mentioning = Set(documents.filter { ($0.title + " " + $0.body).range(of: "Drosten", options: .caseInsensitive) != nil }.map(\.id))
        let found = Set(try TestSupport.ids(searcher, "Drostens", limit: 1_000))
        #expect(found == mentioning)
        for id in try TestSupport.ids(searcher, "Söder", limit: 200) {
            let text = textOf(id)
            #expect(text.contains("Söder") || text.contains("Soeder") || text.contains("SÖDER"), "\(id)")
        }
    }

    @Test("a name and a word the stemmer would merge with it stay apart", .enabled(if: SystemWordList.path != nil, "no system word list"))
    func namesDoNotMeetWords() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let documents = [
            Document(id: "wieler", title: "Lagebericht", body: "Lothar Wieler stellte am Mittwoch die Zahlen vor. Wieler mahnte zur Vorsicht."),
            Document(id: "wiel", title: "Hafen", body: "Am Kai lagen die Boote, die Wiel der Fähre war frisch gestrichen."),
            Document(id: "biden", title: "Wahlkampf", body: "Joe Biden sprach in Delaware. Biden kündigte ein Hilfspaket an."),
            Document(id: "bieten", title: "Auktion", body: "Die Sammler bieten hoch, doch niemand bietet so viel wie im Vorjahr."),
        ]
        try TestSupport.buildIndex(documents, at: folder)
        let searcher = try Searcher(reader: IndexReader(directory: folder))
        #expect(try TestSupport.ids(searcher, "Wieler") == ["wieler"])
        #expect(try TestSupport.ids(searcher, "Biden") == ["biden"])
        #expect(try TestSupport.ids(searcher, "Bidens") == ["biden"])
    }
}
