print("lossc")
