import Foundation
import Testing
@testable import Kidx

@Suite("German analyzer")
struct AnalyzerTests {
    let analyzer = GermanAnalyzer()

    private func terms(_ text: String) -> [String] { analyzer.tokens(of: text).map(\.term) }

    @Test("inflections share a stem: Sanktionen = Sanktion = sanktionen")
    func inflections() {
        #expect(terms("Sanktionen") == terms("Sanktion"))
        #expect(terms("sanktionen") == terms("SANKTIONEN"))
        #expect(terms("Nordkoreas") == terms("Nordkorea"))
    }

    @Test("ASCII and Latin-1 folded byte by byte exactly as ICU's NFKC with case folding folds them, every character U+0000...U+02FF in a word")
    func latin1Folding() {
        for scalar in (0x01...0x2FF).compactMap(Unicode.Scalar.init) {
            for text in ["Ä" + String(Character(scalar)) + "ß", String(Character(scalar)), "Straße" + String(Character(scalar))] {
                let bytes = Array(text.utf8)
                var fast = [UInt8](repeating: 0, count: bytes.count), icu: [UInt8] = []
                bytes.withUnsafeBufferPointer { word in
                    let folded = fast.withUnsafeMutableBufferPointer { GermanAnalyzer.foldLatin1(word, into: $0) }
                    #expect(folded == (scalar.value < 0x80 || (0xC0...0xFF).contains(scalar.value)), "\(text)")
                    if folded {
                        #expect(UnicodeNormalizer.caseFolded(word, into: &icu))
                        #expect(fast == icu, "\(text): \(fast) against ICU's \(icu)")
                    }
                }
            }
        }
    }

    @Test("letters told from bytes where ASCII or Latin-1 agree with Unicode's letter property on every word of the sample corpus and every Latin-1 character")
    func allLetters() throws {
        for word in ["atomwaffen", "Nordkorea", "straße", "pjöngjang", "zürich", "ελλάδα", "ÆØÅæøåÿ"] { #expect(GermanAnalyzer.isAllLetters(word), "\(word)") }
        for word in ["covid19", "nord-korea", "a@b", "[x]", "x_y", "über`", "3×4", "a÷b", "x²", "a«b»"] { #expect(!GermanAnalyzer.isAllLetters(word), "\(word)") }
        for scalar in (0xA0...0x2FF).compactMap(Unicode.Scalar.init) {
            let word = "a" + String(Character(scalar)) + "ä"
            #expect(GermanAnalyzer.isAllLetters(word) == word.unicodeScalars.allSatisfy(\.properties.isAlphabetic), "\(word)")
        }
        var checked = 0
        try CorpusReader(root: TestSupport.sampleCorpus).read({ document, _ in
            for word in (document.title + " " + document.body).split(whereSeparator: { $0.isWhitespace }).map(String.init) {
                #expect(GermanAnalyzer.isAllLetters(word) == word.unicodeScalars.allSatisfy(\.properties.isAlphabetic), "\(word)")
                checked += 1
            }
        }, problem: { _ in })
        #expect(checked > 1000)
    }

    @Test("ß and ss meet: Straße = Strasse")
    func sharpS() {
        #expect(terms("Die Straße war gesperrt") == terms("Die Strasse war gesperrt"))
    }

    @Test("umlaut spellings meet: Pjöngjang = Pjoengjang = Pjongjang, Müller = Mueller")
    func umlautSpellings() {
        let reference = terms("Pjöngjang")
        #expect(terms("Pjoengjang") == reference)
        #expect(terms("Pjongjang") == reference)
        #expect(terms("Müller") == terms("Mueller"))
        // A `u` after a vowel closes a diphthong: `ue` there is no `ü`.
        #expect(terms("Frauen") == terms("Frau") && terms("Steuern") == terms("Steuer") && terms("Bauern") == terms("Bauer"))
        #expect(terms("neuen") == terms("neue") && terms("neuen") != terms("neun"))
        #expect(terms("Schuelerin") == terms("Schülerin") && terms("Duesseldorf") == terms("Düsseldorf"))
        // `ue` after `q` is not an umlaut.
        #expect(terms("Quelle") == ["quell"])
    }

    @Test("Unicode: decomposed umlauts and compatibility forms normalize")
    func unicodeNormalization() {
        #expect(terms("Pju\u{0308}ngjang") == terms("Pjüngjang"))
        #expect(terms("ﬁnanzen") == terms("Finanzen"))
    }

    @Test("NFC's quick path: text skips ICU only where NFC keeps it, every character up to U+2FFF between letters")
    func composedQuickPath() {
        for scalar in (0x01...0x2FFF).compactMap(Unicode.Scalar.init) {
            let character = String(Character(scalar)), value = scalar.value
            var alone = character
            #expect(alone.withUTF8(UnicodeNormalizer.isComposed) == (value < 0x300 || (0x2002...0x206F).contains(value) || (0x20A0...0x20CF).contains(value)),
                    "U+\(String(value, radix: 16))")
            for text in ["a" + character + "e", "Ä" + character + "\u{0308}", "\u{2003}" + character] {
                var bytes = text
                guard bytes.withUTF8(UnicodeNormalizer.isComposed) else { continue }
                #expect(text.precomposedStringWithCanonicalMapping.unicodeScalars.elementsEqual(text.unicodeScalars), "U+\(String(value, radix: 16))")
            }
        }
        #expect(Array(UnicodeNormalizer.composed("Pju\u{0308}ngjang \u{2001}").unicodeScalars) == Array("Pjüngjang \u{2003}".unicodeScalars))
        #expect(UnicodeNormalizer.composed("„Straße“ – 5 € …") == "„Straße“ – 5 € …")
    }

    @Test("a hyphenated word is indexed in parts and joined, at the first part's position")
    func hyphenated() {
        let tokens = analyzer.tokens(of: "Gespräche mit Nord-Korea begannen")
        let joined = try! #require(tokens.first { $0.kind == .hyphenJoined })
        #expect(joined.term == terms("Nordkorea").first)
        let parts = tokens.filter { $0.byteRange.overlaps(joined.byteRange) && $0.kind != .hyphenJoined }
        #expect(parts.map(\.term) == ["nord", "korea"])
        #expect(joined.position == parts[0].position)
        #expect(analyzer.queryTerms(of: "Nord-Korea") == terms("Nordkorea"))
    }

    @Test("stop words, when removed, keep their position; by default they are indexed")
    func stopWords() {
        let removing = GermanAnalyzer(options: AnalyzerOptions(removeStopWords: true))
        let tokens = removing.tokens(of: "Mangel an Impfstoff")
        #expect(tokens.count == 2)
        #expect(tokens[1].position - tokens[0].position == 2)
        #expect(removing.tokens(of: "und der die das").isEmpty)
        #expect(analyzer.tokens(of: "Mangel an Impfstoff").count == 3)
        #expect(analyzer.isStopWord("Über") && !analyzer.isStopWord("Impfstoff"))
    }

    @Test("offsets point at the original text, also after ß and umlauts")
    func offsets() {
        let text = "Große Straßen in Düsseldorf"
        let bytes = Array(text.utf8)
        let surfaces = analyzer.tokens(of: text).map { String(decoding: bytes[$0.byteRange], as: UTF8.self) }
        #expect(surfaces == ["Große", "Straßen", "in", "Düsseldorf"])
    }

    @Test("switching stages off changes the terms")
    func options() {
        let plain = GermanAnalyzer(options: AnalyzerOptions(stemming: false))
        #expect(plain.tokens(of: "Die Sanktionen").map(\.term) == ["die", "sanktionen"])
        #expect(plain.tokens(of: "Pjöngjang").map(\.term) == plain.tokens(of: "Pjoengjang").map(\.term))
    }

    @Test("numbers are tokens")
    func numbers() {
        #expect(terms("3,5 Prozent im Jahr 2024").contains("2024"))
        #expect(terms("3,5 Prozent").contains("3,5"))
    }

    @Test("a word's term is a prefix of the word or of the word without umlauts, with every stemmer and with names")
    func termsArePrefixes() throws {
        let reader = try IndexReader(directory: try #require(TestSupport.sampleIndex))
        var texts: [String] = []
        try CorpusReader(root: TestSupport.sampleCorpus).read({ document, _ in texts.append(document.title + "\n" + document.body) }, problem: { _ in })
        let analyzers = [reader.makeAnalyzer(), GermanAnalyzer(options: AnalyzerOptions(stemmer: .light)),
                         GermanAnalyzer(options: AnalyzerOptions(stemming: false)), GermanAnalyzer(options: AnalyzerOptions(stemming: false, spellingVariants: false))]
        #expect(analyzers[0].nameTerm != nil, "the sample corpus has names")
        for analyzer in analyzers {
            var checked = 0, changed = 0
            for var text in texts {
                text.withUTF8 { utf8 in
                    analyzer.forEachWord(inUTF8: utf8) { word, _, _, _ in
                        let folded = Array(word)
                        var plain = folded
                        SpellingVariants.stripUmlauts(&plain)
                        let term = analyzer.term(ofWord: folded)
                        #expect(folded.starts(with: term) || plain.starts(with: term), "\(String(decoding: folded, as: UTF8.self)) → \(String(decoding: term, as: UTF8.self))")
                        checked += 1
                        if term != folded { changed += 1 }
                    }
                }
            }
            #expect(checked > 5_000 && (analyzer.options.stemming ? changed > 1_000 : true))
        }
    }
}
