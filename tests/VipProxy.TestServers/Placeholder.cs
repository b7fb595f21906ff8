namespace VipProxy.TestServers;
