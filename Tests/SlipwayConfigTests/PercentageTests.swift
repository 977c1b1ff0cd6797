import SlipwayConfig
import Testing

@Suite("Percentages")
struct PercentageTests {
    @Test(arguments: [("25%", 2500), ("12.5%", 1250), ("0%", 0), ("100%", 10_000), ("0.01%", 1), ("99.99%", 9999)])
    func parses(text: String, basisPoints: Int) {
        #expect(Percentage.parse(text) == Percentage(basisPoints: basisPoints))
        #expect(Percentage.parse(text)?.description == text)
    }

    @Test(arguments: ["25", "%", "-5%", "100.01%", "101%", "1.001%", "abc%", "25 %", "1e2%"])
    func rejects(text: String) {
        #expect(Percentage.parse(text) == nil)
    }

    @Test func descriptionRoundTrips() {
        for basisPoints in [0, 1, 10, 99, 100, 250, 1250, 3333, 5000, 10_000] {
            let percentage = Percentage(basisPoints: basisPoints)
            #expect(Percentage.parse(percentage.description) == percentage)
        }
        #expect(Percentage(basisPoints: 5).description == "0.05%")
        #expect(Percentage(basisPoints: 1250).description == "12.5%")
    }
}
