import Foundation
import Testing
@testable import Kidx

@Suite("Word breaking")
struct WordBreakerTests {
    let breaker = WordBreaker()

    /// The word segments ICU finds in `text` and those `LatinWordBreaker` finds (nil when it
    /// declines the text).
    private func segments(_ text: String) -> (icu: [String], latin: [String]?) {
        var text = text
        return text.withUTF8 { bytes in
            var icu: [String] = [], latin: [String] = []
            breaker.forEachSegment(in: bytes) { range, kind in
                if kind != .other { icu.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)) }
            }
            var latinBreaker = LatinWordBreaker()
            let covered = latinBreaker.forEachWord(in: bytes) { range in
                latin.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            }
            return (icu, covered ? latin : nil)
        }
    }

    @Test("the Latin rules split abbreviations, numbers, apostrophes and gender marks as ICU does")
    func hardCases() {
        let cases = [
            "z.B. am 1.Mai um 3.000 Euro, 2,5 % mehr; geht's ’s Ku'damm",
            "Bürger:innen Bürger·innen Bürger*innen Bürger/innen Nord-Korea",
            "www.zeit.de, 10:30 Uhr, U.S.A., a.b.c.d 1.2.3 x,y 5;6 7'8",
            "„Zitat“ ‚halb‘ «Guillemets» ‹eins› – Gedankenstrich — lang … € 5 § 3 ° 12 × 4 ÷ 2",
            "Straße Ökonomie ÆØÅ łódź Škoda Çelik ½ ¾ ª º µ",
            "'Anfang Ende' .Punkt Punkt. :Doppel Doppel: '' .. :: 1. 2, ,3 ;x",
        ]
        for text in cases {
            let (icu, latin) = segments(text)
            #expect(latin == icu, "\(text)")
        }
    }

    @Test("text the Latin rules do not cover goes to ICU")
    func declines() {
        for text in ["Soft\u{AD}hyphen", "snake_case", "Ελλάδα", "e\u{301}", "🙂 gut", "Zero\u{200B}width"] {
            #expect(segments(text).latin == nil, "\(text)")
        }
    }

    @Test("the Latin rules agree with ICU on every text of 2,000 FANG articles they cover",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func newsAgree() throws {
        let documents = try #require(TestSupport.newsDocuments)
        var covered = 0
        for document in documents {
            for text in [document.title, document.body] {
                let (icu, latin) = segments(text)
                guard let latin else { continue }
                covered += 1
                if latin != icu {
                    let difference = zip(latin, icu).first { $0 != $1 } ?? (latin.last ?? "", icu.last ?? "")
                    Issue.record("\(document.id): Latin \(difference.0) / ICU \(difference.1)")
                }
            }
        }
        #expect(covered > 3_800)
    }
}
