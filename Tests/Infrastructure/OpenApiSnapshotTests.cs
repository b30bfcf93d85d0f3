using System.Text.Json;
using System.Text.Json.Nodes;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>
/// The served OpenAPI document must equal the checked-in docs/openapi/v1.json, so every change to the API's contract
/// shows in review. After an intended change, refresh the file with
/// <c>SLICEAPI_UPDATE_OPENAPI=1 dotnet test SliceApi.sln --filter OpenApiSnapshotTests</c> and commit it.
/// </summary>
public sealed class OpenApiSnapshotTests(AppFixture api) : IClassFixture<AppFixture>
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    [Fact]
    public async Task The_served_document_equals_the_checked_in_file()
    {
        var served = JsonNode.Parse(await api.CreateAnonymousClient().GetStringAsync("/openapi/v1.json"))!.ToJsonString(Indented) + "\n";
        var path = Path.Combine(Repository.Root, "docs", "openapi", "v1.json");
        if (Environment.GetEnvironmentVariable("SLICEAPI_UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(path, served, TestContext.Current.CancellationToken);
        }

        File.Exists(path).ShouldBeTrue($"{path} is missing; create it with SLICEAPI_UPDATE_OPENAPI=1 dotnet test SliceApi.sln --filter OpenApiSnapshotTests");
        var checkedIn = await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken);
        served.ShouldBe(checkedIn.ReplaceLineEndings("\n"),
            "The API's contract changed. If intended, refresh docs/openapi/v1.json with SLICEAPI_UPDATE_OPENAPI=1 dotnet test SliceApi.sln --filter OpenApiSnapshotTests and commit it.");
    }
}
