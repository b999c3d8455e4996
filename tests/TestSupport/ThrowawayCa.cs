using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ToDoList.TestSupport;

/// <summary>
/// A certificate authority made for one test, and a server certificate it signed for <c>127.0.0.1</c> and
/// <c>localhost</c>, written as PEM files into a temporary folder (deleted on dispose).
/// </summary>
public sealed class ThrowawayCa : IDisposable
{
    private ThrowawayCa(string directory) => Directory = directory;

    public string Directory { get; }

    /// <summary>The CA's certificate: what a client trusts.</summary>
    public string CaFile => Path.Combine(Directory, "ca.pem");

    /// <summary>The server's certificate, signed by the CA.</summary>
    public string CertFile => Path.Combine(Directory, "server.pem");

    /// <summary>The server's private key (PKCS#8).</summary>
    public string KeyFile => Path.Combine(Directory, "server-key.pem");

    public static ThrowawayCa Create()
    {
        var ca = new ThrowawayCa(System.IO.Directory.CreateTempSubdirectory("todo-ca-").FullName);
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=ToDoList throwaway test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var authority = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(7));

        using var serverKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        using var server = request.Create(authority, now.AddDays(-1), now.AddDays(6), RandomNumberGenerator.GetBytes(16));

        File.WriteAllText(ca.CaFile, authority.ExportCertificatePem());
        File.WriteAllText(ca.CertFile, server.ExportCertificatePem());
        File.WriteAllText(ca.KeyFile, serverKey.ExportPkcs8PrivateKeyPem());
        return ca;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A server still holding a file: the temp folder keeps it.
        }
    }
}
