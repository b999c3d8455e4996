using Npgsql;

namespace ToDoList.Tests;

/// <summary>
/// PostgreSQL over TLS with a certificate a throwaway CA signed: <c>SSL Mode=VerifyFull;Root Certificate=ca.pem</c> in
/// <c>ConnectionStrings:ToDoDb</c> is the documented way to trust a private CA. The real <c>todo</c> stores an item over
/// it; trusting another CA, it refuses to start, naming the database as the failure.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DatabaseTlsTests
{
    [Fact]
    public async Task The_app_stores_over_TLS_verifying_the_server_against_its_private_CA_and_refuses_another_CA()
    {
        using var ca = ThrowawayCa.Create();
        using var stranger = ThrowawayCa.Create();
        var server = await PostgresServer.GetAsync();
        await server.EnableTlsAsync(ca.CertFile, ca.KeyFile);
        var database = await server.CreateDatabaseAsync();
        var plain = server.ConnectionString(database);

        await using (var todo = TodoProcess.Start($"{plain};SSL Mode=VerifyFull;Root Certificate={ca.CaFile}"))
        {
            using var client = new HttpClient { BaseAddress = await todo.WaitForAddressAsync(), Timeout = TimeSpan.FromSeconds(30) };
            var saved = await client.AddItemAndWaitAsync(TodoHttp.UniqueText("over TLS"));
            Assert.True(saved.Id > 0);

            // The app's sessions on its database are encrypted, as the server sees them.
            await using var admin = new NpgsqlConnection(server.ConnectionString() + ";Pooling=false");
            await admin.OpenAsync();
            await using var query = new NpgsqlCommand("SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE a.datname = $1", admin) { Parameters = { new() { Value = database } } };
            await using var reader = await query.ExecuteReaderAsync();
            await reader.ReadAsync();
            Assert.True(reader.GetInt64(1) > 0, "the app holds no session on its database");
            Assert.Equal(reader.GetInt64(1), reader.GetInt64(0));
        }

        await using var refused = TodoProcess.Start($"{plain};SSL Mode=VerifyFull;Root Certificate={stranger.CaFile}");
        var exitCode = await refused.WaitForExitAsync();
        Assert.True(exitCode == 2, $"exit code {exitCode}: {refused.Output}");
        Assert.Contains("the database failed", refused.LastErrorLine);
    }
}
