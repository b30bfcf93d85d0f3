using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.TestHost;

namespace SliceApi.Tests.Support;

/// <summary>A page the browser got: status, headers and HTML.</summary>
public sealed record BrowserPage(HttpStatusCode Status, HttpResponseHeaders Headers, string Html)
{
    /// <summary>The <c>Location</c> header, or null.</summary>
    public Uri? Location => Headers.Location;

    /// <summary>The hidden fields of the page's form (the app's request parameters and the antiforgery token).</summary>
    public Dictionary<string, string> HiddenFields() =>
        OAuthBrowser.Hidden().Matches(Html).ToDictionary(m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => WebUtility.HtmlDecode(m.Groups["value"].Value));

    /// <summary>Where the page's form posts, e.g. <c>/oauth/authorize</c>.</summary>
    public string FormAction => WebUtility.HtmlDecode(Regex.Match(Html, "<form method=\"post\" action=\"([^\"]*)\"").Groups[1].Value);

    /// <summary>The text of the page's <c>h1</c>.</summary>
    public string Heading => WebUtility.HtmlDecode(Regex.Match(Html, "<h1>(.*?)</h1>").Groups[1].Value);
}

/// <summary>The code's <c>code_verifier</c> and its S256 <c>code_challenge</c> (RFC 7636).</summary>
public sealed record Pkce(string Verifier, string Challenge)
{
    /// <summary>A fresh pair.</summary>
    public static Pkce Create()
    {
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        return new Pkce(verifier, Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    internal static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// A browser and an app against the test server: it keeps cookies like a browser (the sign-in session, the antiforgery
/// cookie), never follows redirects (the test reads them), and posts the pages' forms as a user would.
/// </summary>
public sealed partial class OAuthBrowser : IDisposable
{
    private readonly CookieHandler cookies;
    private readonly HttpClient http;

    /// <summary>A browser on <paramref name="host"/> with no cookies yet.</summary>
    public OAuthBrowser(IAlbaHost host)
    {
        cookies = new CookieHandler(host.Server.CreateHandler());
        http = new HttpClient(cookies) { BaseAddress = new Uri("http://localhost") };
    }

    /// <summary>Takes <paramref name="other"/>'s cookies, as the same browser sent to another instance by a load balancer.</summary>
    public void CopyCookiesFrom(OAuthBrowser other) => cookies.Jar.Add(other.cookies.Jar.GetAllCookies());

    /// <summary>The authorization request's query for <paramref name="clientId"/>.</summary>
    public static string AuthorizeQuery(string clientId, string redirectUri, string scope, string state, Pkce? pkce, string method = "S256") =>
        $"response_type=code&client_id={Uri.EscapeDataString(clientId)}&redirect_uri={Uri.EscapeDataString(redirectUri)}&scope={Uri.EscapeDataString(scope)}"
        + $"&state={Uri.EscapeDataString(state)}" + (pkce is null ? "" : $"&code_challenge={pkce.Challenge}&code_challenge_method={method}");

    /// <summary><c>GET /oauth/authorize?query</c>.</summary>
    public Task<BrowserPage> OpenAsync(string query) => GetAsync("/oauth/authorize?" + query);

    /// <summary><c>GET</c> a page by its path and query (or its absolute URL on the test server).</summary>
    public Task<BrowserPage> GetAsync(string url) => SendAsync(new HttpRequestMessage(HttpMethod.Get, url));

    /// <summary>Posts <paramref name="page"/>'s form with its hidden fields, changed and extended by <paramref name="fields"/> (a null value drops a field).</summary>
    public Task<BrowserPage> SubmitAsync(BrowserPage page, params (string Name, string? Value)[] fields)
    {
        var form = page.HiddenFields();
        foreach (var (name, value) in fields)
        {
            if (value is null)
            {
                form.Remove(name);
            }
            else
            {
                form[name] = value;
            }
        }

        return SendAsync(new HttpRequestMessage(HttpMethod.Post, page.FormAction) { Content = new FormUrlEncodedContent(form) });
    }

    /// <summary>Opens the authorization page, signs in as <paramref name="user"/> and presses <paramref name="button"/> (allow or deny).</summary>
    /// <returns>The last response: a redirect to the app, or a page.</returns>
    public async Task<BrowserPage> AuthorizeAsync(TestUser user, string query, string button = "allow")
    {
        var signIn = await OpenAsync(query);
        signIn.Status.ShouldBe(HttpStatusCode.OK, signIn.Html);
        var consent = await SubmitAsync(signIn, ("email", user.Email), ("password", user.Password), ("action", "signin"));
        consent.Status.ShouldBe(HttpStatusCode.OK, consent.Html);
        return await SubmitAsync(consent, ("action", button));
    }

    /// <summary>Runs the whole code flow for a public app: the authorization code from the redirect.</summary>
    public async Task<string> GetCodeAsync(TestUser user, string clientId, string redirectUri, string scope, Pkce pkce)
    {
        var redirect = await AuthorizeAsync(user, AuthorizeQuery(clientId, redirectUri, scope, "s", pkce));
        redirect.Status.ShouldBe(HttpStatusCode.Found, redirect.Html);
        return QueryValue(redirect.Location!, "code").ShouldNotBeNull();
    }

    /// <summary>Registers a public app of <paramref name="owner"/> through the API; its <c>client_id</c>.</summary>
    public static async Task<string> RegisterPublicAppAsync(AppFixture api, TestUser owner, string name, string redirectUri)
    {
        var created = await api.ClientFor(owner).PostAsJsonAsync("/api/v1/oauth/apps", new { name, clientType = "public", redirectUris = new[] { redirectUri } })
            .ShouldReturnAsync<SliceApi.Features.OAuth.CreateOAuthAppResponse>(HttpStatusCode.Created);
        return created.App.ClientId;
    }

    /// <summary>Exchanges a public app's authorization code with its PKCE verifier (RFC 6749 section 4.1.3, RFC 7636 section 4.5).</summary>
    public Task<(HttpStatusCode Status, JsonElement Body)> ExchangeAsync(string clientId, string code, string redirectUri, Pkce pkce) =>
        TokenAsync(("grant_type", "authorization_code"), ("code", code), ("client_id", clientId), ("redirect_uri", redirectUri), ("code_verifier", pkce.Verifier));

    /// <summary>Posts to the token endpoint (<c>application/x-www-form-urlencoded</c>, RFC 6749 section 4.1.3).</summary>
    public Task<(HttpStatusCode Status, JsonElement Body)> TokenAsync(params (string Name, string? Value)[] fields) => PostFormAsync("/oauth/token", fields);

    /// <summary>Posts a form as an app does (no page), and reads the JSON answer.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> PostFormAsync(string path, params (string Name, string? Value)[] fields)
    {
        using var response = await http.PostAsync(path, new FormUrlEncodedContent(
            fields.Where(f => f.Value is not null).Select(f => new KeyValuePair<string, string>(f.Name, f.Value!))));
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    /// <summary>Posts to the revocation endpoint (RFC 7009).</summary>
    public async Task<HttpStatusCode> RevokeAsync(params (string Name, string Value)[] fields)
    {
        using var response = await http.PostAsync("/oauth/revoke", new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))));
        return response.StatusCode;
    }

    /// <summary>A query parameter of <paramref name="uri"/>, decoded, or null.</summary>
    public static string? QueryValue(Uri uri, string name) =>
        uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
            .Where(p => p[0] == name).Select(p => Uri.UnescapeDataString(p.Length > 1 ? p[1] : "")).FirstOrDefault();

    public void Dispose() => http.Dispose();

    private async Task<BrowserPage> SendAsync(HttpRequestMessage request)
    {
        using (request)
        using (var response = await http.SendAsync(request))
        {
            return new BrowserPage(response.StatusCode, response.Headers, await response.Content.ReadAsStringAsync());
        }
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]*)\" value=\"(?<value>[^\"]*)\">")]
    internal static partial Regex Hidden();

    // Cookies as a browser keeps them, on a handler that has none of its own (the test server's).
    private sealed class CookieHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private readonly CookieContainer cookies = new();

        public CookieContainer Jar => cookies;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var header = cookies.GetCookieHeader(request.RequestUri!);
            if (header.Length > 0)
            {
                request.Headers.Add("Cookie", header);
            }

            var response = await base.SendAsync(request, cancellationToken);
            if (response.Headers.TryGetValues("Set-Cookie", out var set))
            {
                foreach (var cookie in set)
                {
                    cookies.SetCookies(request.RequestUri!, cookie);
                }
            }

            return response;
        }
    }
}
