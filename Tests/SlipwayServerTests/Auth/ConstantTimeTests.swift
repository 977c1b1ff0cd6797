import Testing

@testable import SlipwayServer

@Suite struct ConstantTimeTests {
    @Test func equalBytesAreEqual() {
        #expect(ConstantTime.equals("", ""))
        #expect(ConstantTime.equals("s3cret", "s3cret"))
        #expect(ConstantTime.equals("s3cret"[...], "s3cret"))
        #expect(ConstantTime.equals([0, 255, 7] as [UInt8], [0, 255, 7] as [UInt8]))
    }

    @Test func differentBytesOfTheSameLengthAreNot() {
        #expect(!ConstantTime.equals("s3cret", "t3cret"))
        #expect(!ConstantTime.equals("s3cret", "s3crex"))
        #expect(!ConstantTime.equals("s3cret", "S3cret"))
        #expect(!ConstantTime.equals([0, 0] as [UInt8], [0, 1] as [UInt8]))
    }

    @Test func differentLengthsAreNotEqualEvenWhenOneIsAPrefix() {
        #expect(!ConstantTime.equals("s3cret", "s3cre"))
        #expect(!ConstantTime.equals("s3cre", "s3cret"))
        #expect(!ConstantTime.equals("", "s"))
        #expect(!ConstantTime.equals("s", ""))
        // Padding a short value with zero bytes must not make it equal to a longer one.
        #expect(!ConstantTime.equals([1, 0] as [UInt8], [1] as [UInt8]))
        #expect(!ConstantTime.equals("a\u{0}", "a"))
    }

    @Test func theTokenComparesInConstantTime() throws {
        let token = try #require(APIToken("s3cret"))
        #expect(token.matches("s3cret"))
        #expect(!token.matches("s3cre"))
        #expect(!token.matches("s3cret "))
        #expect(!token.matches(""))
        #expect(APIToken("") == nil)
    }
}
