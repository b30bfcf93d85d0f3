using System.Text;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Tests.Unit;

/// <summary>Which bearer tokens the scheme selector sends to OpenIddict's validation: those whose JOSE header says <c>typ: at+jwt</c>.</summary>
public sealed class AppTokenSchemeTests
{
    private static string Token(string header) => Convert.ToBase64String(Encoding.UTF8.GetBytes(header)).TrimEnd('=').Replace('+', '-').Replace('/', '_') + ".e30.sig";

    [Theory]
    [InlineData("""{"alg":"ES256","kid":"k","typ":"at+jwt"}""", true)]
    [InlineData("""{"typ":"AT+JWT","alg":"ES256"}""", true)]
    [InlineData("""{"alg":"ES256","typ":"application/at+jwt"}""", true)]
    [InlineData("""{"alg":"HS256","typ":"JWT"}""", false)]
    [InlineData("""{"alg":"HS256","typ":"JWT","note":"not+at+jwt"}""", false)]
    public void The_typ_of_the_header_decides(string header, bool isApp) =>
        AppTokenScheme.IsAppToken(Token(header)).ShouldBe(isApp);

    [Theory]
    [InlineData("")]
    [InlineData("no-dot-at-all")]
    [InlineData(".starts.with.a.dot")]
    [InlineData("!!!not-base64!!!.e30.sig")]
    public void Anything_else_is_not_an_app_token(string token) => AppTokenScheme.IsAppToken(token).ShouldBeFalse();

    [Fact]
    public void A_header_longer_than_512_characters_is_not_looked_at() =>
        AppTokenScheme.IsAppToken(Token($$"""{"typ":"at+jwt","pad":"{{new string('x', 600)}}"}""")).ShouldBeFalse();
}
