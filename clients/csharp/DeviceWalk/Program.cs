// A command-line app on a device without a browser, signing its user in with the device authorization grant (RFC 8628)
// through Duende.IdentityModel, a client library nobody here wrote: it asks SliceApi's device endpoint for a code, its
// user (played here by a cookie-keeping HttpClient) signs in on the verification page, enters the code and allows, and
// the app polls the token endpoint until it gets its tokens; then it calls the API with the generated client, where its
// scope reaches (listing tasks) and where it ends (creating one: 403). Prints a line per check and ends with
// "device grant walk: N passed, N failed"; exits 1 when any failed.
//
//   dotnet run --project clients/csharp/DeviceWalk -- <API base> <server base, the OAuth issuer>
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Duende.IdentityModel.Client;
using SliceApi.Client;

var apiBase = args.Length > 0 ? args[0] : "http://127.0.0.1:5080";
var serverBase = (args.Length > 1 ? args[1] : apiBase).TrimEnd('/');
var bearer = new BearerHandler { InnerHandler = new SocketsHttpHandler() };
using var http = new HttpClient(bearer) { BaseAddress = new Uri(apiBase.TrimEnd('/') + "/") };
var api = new SliceApiClient(http);
using var oauth = new HttpClient();
var (passed, failed) = (0, 0);

void Check<T>(string name, T expected, T actual)
{
    if (EqualityComparer<T>.Default.Equals(expected, actual))
    {
        passed++;
        Console.WriteLine($"ok   {name} ({actual})");
    }
    else
    {
        failed++;
        Console.WriteLine($"FAIL {name}: expected {expected}, got {actual}");
    }
}

try
{
    var email = $"device-{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}-{Random.Shared.Next(1_000_000)}@example.com";
    const string password = "correct horse battery staple";
    await api.RegisterUserAsync(new RegisterUserRequest { Email = email, Password = password, DisplayName = "Device walk" });
    bearer.AccessToken = (await api.LoginAsync(new LoginRequest { Email = email, Password = password })).Result.AccessToken;
    var app = await api.CreateOAuthAppAsync(new CreateOAuthAppRequest
    {
        Name = "Device walk CLI", ClientType = CreateOAuthAppRequestClientType.Public, RedirectUris = [new Uri("http://127.0.0.1:7777/cb")],
    });
    Check("register a public app", 201, app.StatusCode);
    var clientId = app.Result.App.ClientId;
    bearer.AccessToken = null;

    // The endpoints from the server metadata (RFC 8414).
    using var metadata = JsonDocument.Parse(await oauth.GetStringAsync($"{serverBase}/.well-known/oauth-authorization-server"));
    var deviceEndpoint = metadata.RootElement.GetProperty("device_authorization_endpoint").GetString()!;
    var tokenEndpoint = metadata.RootElement.GetProperty("token_endpoint").GetString()!;

    // The device asks for a code and shows it with the verification URI.
    var device = await oauth.RequestDeviceAuthorizationAsync(new DeviceAuthorizationRequest { Address = deviceEndpoint, ClientId = clientId, Scope = "tasks:read" });
    Check("device authorization", false, device.IsError);
    Check("a user code to show", true, !string.IsNullOrEmpty(device.UserCode));
    Console.WriteLine($"     the device shows: go to {device.VerificationUri} and enter {device.UserCode}");
    var pending = await oauth.RequestDeviceTokenAsync(new DeviceTokenRequest { Address = tokenEndpoint, ClientId = clientId, DeviceCode = device.DeviceCode! });
    Check("polling before the user confirms", "authorization_pending", pending.Error);

    // The user, in a browser: sign in, enter the code, allow.
    var page = await Browser.GetAsync(device.VerificationUri!);
    page = await Browser.SubmitAsync(page, ("email", email), ("password", password), ("action", "signin"));
    page = await Browser.SubmitAsync(page, ("user_code", device.UserCode!), ("action", "code"));
    Check("the consent page names the app", true, page.Html.Contains("<h1>Allow Device walk CLI?</h1>", StringComparison.Ordinal));
    page = await Browser.SubmitAsync(page, ("action", "allow"));
    Check("allowed", HttpStatusCode.Found, page.Status);

    // The device polls at the interval it was given until the tokens come.
    Duende.IdentityModel.Client.TokenResponse tokens;
    var attempts = 0;
    do
    {
        await Task.Delay(TimeSpan.FromSeconds(Math.Min(device.Interval, 1)));
        tokens = await oauth.RequestDeviceTokenAsync(new DeviceTokenRequest { Address = tokenEndpoint, ClientId = clientId, DeviceCode = device.DeviceCode! });
    }
    while (tokens.Error is "authorization_pending" or "slow_down" && ++attempts < 30);
    Check("the device gets its access token", false, tokens.IsError);
    Check("with the scope the user allowed", "tasks:read", tokens.Scope);

    bearer.AccessToken = tokens.AccessToken;
    Check("the app lists tasks", 200, (await api.ListTasksAsync()).StatusCode);
    try
    {
        await api.CreateTaskAsync(new CreateTaskRequest { Title = "not allowed" });
        Check("the app may not create a task (no tasks:write)", 403, 201);
    }
    catch (ApiException e)
    {
        Check("the app may not create a task (no tasks:write)", 403, e.StatusCode);
    }
}
catch (Exception e)
{
    failed++;
    Console.WriteLine($"FAIL the walk stopped: {e.GetType().Name}: {e.Message}");
}

Console.WriteLine($"device grant walk: {passed} passed, {failed} failed");
return failed == 0 ? 0 : 1;

/// <summary>Adds the current access token to every request of the API client.</summary>
internal sealed class BearerHandler : DelegatingHandler
{
    public string? AccessToken { get; set; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (AccessToken is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AccessToken);
        }

        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>The user's browser: keeps cookies, follows no redirect, posts a page's form with its hidden fields.</summary>
internal static partial class Browser
{
    private static readonly HttpClient Client = new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false });

    public static async Task<Page> GetAsync(string url) => await ReadAsync(await Client.GetAsync(url), new Uri(url));

    public static async Task<Page> SubmitAsync(Page page, params (string Name, string Value)[] fields)
    {
        var form = HiddenField().Matches(page.Html).ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => WebUtility.HtmlDecode(m.Groups[2].Value));
        foreach (var (name, value) in fields)
        {
            form[name] = value;
        }

        var action = new Uri(page.Url, WebUtility.HtmlDecode(FormAction().Match(page.Html).Groups[1].Value));
        return await ReadAsync(await Client.PostAsync(action, new FormUrlEncodedContent(form)), action);
    }

    private static async Task<Page> ReadAsync(HttpResponseMessage response, Uri url)
    {
        using (response)
        {
            return new Page(url, response.StatusCode, await response.Content.ReadAsStringAsync());
        }
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]*)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenField();

    [GeneratedRegex("<form method=\"post\" action=\"([^\"]*)\"")]
    private static partial Regex FormAction();
}

/// <summary>A page the browser got.</summary>
internal sealed record Page(Uri Url, HttpStatusCode Status, string Html);
